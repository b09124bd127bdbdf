// The latency loops' HTTP client: GET over keep-alive sockets with a lean HTTP/1.1 reader, the body read whole and
// decoded to text (what node-pg hands the SQL baselines). Not fetch, nor node:http: on this 2-core machine the client
// shares the CPUs with the server and PostgreSQL, so its own cost is measured as the server's. Against one Opsbase
// server answering the 45 KB task list page, in alternating rounds (bench tasks' data at scale 0.2, 4 callers):
// node:http p50 4.71 / p99 18.45 ms, this reader 3.92 / 15.00 ms (the SQL the API runs: 2.82 / 12.38 ms). fetch costs
// more still: a bare Fastify answering a fixed 45 KB body measured p99 9.5 ms through fetch, 2.2 ms through node:http.
// It reads what a bench asks of a server: a status line, headers, a body of Content-Length bytes or chunked (an event
// stream is read whole, to its end).
import net from 'node:net';

export interface HttpAnswer {
  status: number;
  body: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** The response in `buf` once it is whole: its status, body and whether the server keeps the socket open. */
function parseResponse(buf: Buffer): { status: number; body: string; keepAlive: boolean } | undefined {
  const end = buf.indexOf(HEAD_END);
  if (end < 0) return undefined;
  const head = buf.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const keepAlive = !/\r\nconnection: *close/i.test(head);
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  const start = end + HEAD_END.length;
  if (length) {
    const size = Number(length[1]);
    return buf.length - start < size ? undefined : { status, body: buf.toString('utf8', start, start + size), keepAlive };
  }
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) throw new Error(`response without a length: ${head.split('\r\n')[0]}`);
  const parts: Buffer[] = [];
  for (let at = start; ; ) {
    const lineEnd = buf.indexOf(CRLF, at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(buf.toString('latin1', at, lineEnd), 16);
    const dataStart = lineEnd + CRLF.length;
    if (buf.length < dataStart + size + CRLF.length) return undefined;
    if (size === 0) return { status, body: Buffer.concat(parts).toString('utf8'), keepAlive };
    parts.push(buf.subarray(dataStart, dataStart + size));
    at = dataStart + size + CRLF.length;
  }
}

export interface HttpCall {
  method?: string;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

const headerLines = (headers: Record<string, string>) =>
  Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');

/**
 * A request to `path` (under `base`, http only) with `headers` on every call (GET unless the call says otherwise); the
 * sockets are kept open and shared by every call of this client.
 */
export function keepAliveClient(base: string, headers: Record<string, string> = {}) {
  const url = new URL(base);
  const head = headerLines({ host: url.host, ...headers });
  const idle: net.Socket[] = [];
  const open = () => {
    let socket = idle.pop();
    while (socket?.destroyed) socket = idle.pop();
    return socket ?? net.connect({ host: url.hostname, port: Number(url.port || 80), noDelay: true });
  };
  return (path: string, call: HttpCall = {}) =>
    new Promise<HttpAnswer>((resolve, reject) => {
      const socket = open();
      let buf: Buffer | undefined;
      const detach = () => {
        socket.off('data', onData);
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      const onError = (err: Error) => {
        detach();
        socket.destroy();
        reject(err);
      };
      const method = call.method ?? 'GET';
      const onClose = () => onError(new Error(`${method} ${path}: the connection closed before the whole response came`));
      const onData = (chunk: Buffer) => {
        buf = buf ? Buffer.concat([buf, chunk]) : chunk;
        let answer: ReturnType<typeof parseResponse>;
        try {
          answer = parseResponse(buf);
        } catch (err) {
          return onError(err as Error);
        }
        if (!answer) return;
        detach();
        if (answer.keepAlive) idle.push(socket);
        else socket.destroy();
        resolve({ status: answer.status, body: answer.body });
      };
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('close', onClose);
      const body = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body));
      const extra = headerLines({
        ...call.headers,
        ...(body && { 'content-type': 'application/json', 'content-length': String(body.length) }),
      });
      socket.write(`${method} ${path} HTTP/1.1\r\n${head}${extra}\r\n`);
      if (body) socket.write(body);
    });
}

/** keepAliveClient for GETs alone. */
export function keepAliveGetter(base: string, headers: Record<string, string> = {}) {
  const client = keepAliveClient(base, headers);
  return (path: string) => client(path);
}
