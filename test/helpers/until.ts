import { sleep } from './db.ts';

/** Polls `fn` every 50 ms until it returns something truthy (returned), or fails naming `what` after `ms`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 30_000, out?: () => string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${out ? `\n${out()}` : ''}`);
    await sleep(50);
  }
}
