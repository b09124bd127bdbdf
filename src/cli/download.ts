// A `binary` operation's bytes (a file, a backup, an org export) stream from the response to `--out` or standard
// output: a download of gigabytes never sits in memory. A file is written beside its target as `<out>.part` and
// renamed when the whole body has come, so an interrupted download leaves no truncated file under the name asked for.
import type { BodySink } from './http.ts';

export interface Download {
  /** For RequestOptions.sink: opened only when the answer is a success. */
  sink: () => BodySink;
  /** The body came whole: the file takes its name; says where and how many bytes. */
  finish(streamed: number, json: boolean): void;
  /** The request failed or was refused: nothing is left behind (the file's stream closed first, then removed). */
  abort(): Promise<void>;
}

export function downloadTo(out: string | undefined): Download {
  const fs = process.getBuiltinModule('node:fs');
  if (out === undefined) {
    return { sink: () => ({ stream: process.stdout, end: false }), finish: () => {}, abort: async () => {} };
  }
  const part = `${out}.part`;
  let file: ReturnType<typeof fs.createWriteStream> | undefined;
  return {
    sink: () => {
      // Backups and org exports hold every credential's hash: readable by this user only.
      file = fs.createWriteStream(part, { mode: 0o600 });
      return { stream: file, end: true };
    },
    finish(streamed, json) {
      fs.renameSync(part, out);
      if (json) console.log(JSON.stringify({ file: out, bytes: streamed }));
      else console.log(`saved ${streamed} bytes to ${out}`);
    },
    async abort() {
      if (!file) return;
      // A stream still opening would create the file after a removal made now: close it, then remove.
      if (!file.closed) {
        const closed = new Promise<void>((resolve) => file?.once('close', () => resolve()));
        file.destroy();
        await closed;
      }
      fs.rmSync(part, { force: true });
    },
  };
}
