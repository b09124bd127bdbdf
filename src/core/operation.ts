// The operation registry (DESIGN §3): each endpoint is declared once and becomes a route, an OpenAPI operation,
// a CLI command and an MCP tool.
import type { z } from 'zod';
import type { EventStream } from '../http/sse.ts';
import type { Ctx } from './context.ts';
import type { JsonText } from './json-text.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/**
 * Who may call it:
 * - `public`: anyone (credentials are read when present, e.g. for rate limits);
 * - `user`: a logged-in user (session token), not tied to an org;
 * - `org`: a session (org from `X-Org-Id`, default the user's first org) or an org's API key.
 */
export type AuthMode = 'public' | 'user' | 'org';

export interface CliHints {
  args?: string[];
  columns?: string[];
  name?: string;
  watch?: boolean;
  wait?: string;
  /**
   * Uploads (`upload`): the input field that names the local file the CLI sends (`opsbase files create --path
   * ./contract.pdf`); it is still sent too, made relative (an absolute or `..` path by its base name), and `name`
   * defaults to its base name. Without it the command takes `--file <path>`.
   */
  upload?: { from: string };
  /** A secret body field the command also reads from stdin (`--<field>-stdin`), off the command line. */
  stdin?: string;
  /** A shorter flag for a field: `{ folder_id: 'folder' }` → `--folder Policies` sets `folder_id`. */
  flags?: Record<string, string>;
  /** Flags that read a file's text into a field: `{ file: 'content_md' }` → `--file refund.md` (`-`: standard input). */
  files?: Record<string, string>;
  /** The command runs when its group is named alone with arguments: `opsbase docs revisions doc_…` is `… revisions list doc_…`. */
  default?: boolean;
}

/** The hints that say how the CLI spells some inputs (everything else follows from the input schema). */
export type CliFlagHints = Pick<CliHints, 'flags' | 'files' | 'default'>;

export interface OperationSpec<I extends z.ZodObject, O extends z.ZodType> {
  id: string;
  method: HttpMethod;
  /** Under /api/v1; `:name` segments are path parameters taken from `input`. */
  path: string;
  summary: string;
  description?: string;
  auth?: AuthMode;
  /** For `/orgs/:id`-style routes: the org is this path parameter (a session's X-Org-Id is ignored). */
  orgParam?: string;
  /** Irreversible even though not a DELETE (revoke, roll): MCP marks it destructive. Default: DELETE only. */
  destructive?: boolean;
  /** Only instance admins (the first user, or users promoted by one). */
  instanceAdmin?: boolean;
  scopes: string[];
  /**
   * An agent's own key may call it whatever its scopes: the handler then lets the agent act only on what is its own
   * (an http or process agent reporting on its run). Every other caller needs `scopes` as usual.
   */
  ownAgent?: boolean;
  /** Credits reserved before the handler runs; > 0 makes it a paid operation. */
  cost?: number;
  /** How long the credits stay reserved if the action never settles (a crash): then the sweeper releases them. */
  holdTtlSeconds?: number;
  /**
   * `deferred`: the action only starts paid work that finishes later (a task run queued as a job). The hold stays
   * open when the request commits; the handler records `ctx.hold.id` with that work, which settles it exactly once
   * (commit on success; release on failure, timeout or cancel). A handler that throws still releases it at once.
   */
  settlement?: 'with_action' | 'deferred';
  /**
   * Paid operations: read-only checks run before credits are reserved, so a request naming nothing (an unknown or
   * another org's object) is a 404 whatever the wallet holds, not a 402.
   */
  precheck?: (ctx: Ctx, input: z.output<I>) => Promise<void>;
  input: I;
  output: O;
  status?: number;
  /**
   * `watch` (reads only): the command takes `--watch [seconds]` and redraws its output until Ctrl-C.
   * `wait`: the command takes `--wait`: after the answer it follows the event stream of this operation (one with
   * `stream`) for the answer's `id`, printing events until it ends; the exit code says whether it succeeded.
   * `name`: the command's words when the id's would read badly (`search.global` is `opsbase search`).
   */
  cli?: CliHints;
  /**
   * The handler verifies a signature over the exact request bytes (a payment provider's webhook): the server keeps
   * them in `ctx.request.rawBody`. Such an endpoint is for machines, so it is no CLI command and no MCP tool.
   */
  rawBody?: boolean;
  /**
   * The operation takes a file (src/http/upload.ts), in either of two bodies: the file itself
   * (`application/octet-stream` or `application/gzip`, the other input in the query string), as the CLI sends it
   * and as suits large files; or JSON with the bytes base64-encoded in `field`, as MCP and the dashboard send it.
   * Either way the handler finds the bytes in `ctx.upload`.
   */
  upload?: UploadSpec;
  /**
   * Other paths (under /api/v1, `:name` parameters from `input` too) serving the same operation, e.g. another
   * product's URL for it; `DELETE /public/tasks/:id` when that product uses another method for it. Routes only: not
   * in OpenAPI, the CLI or MCP.
   */
  aliases?: string[];
  /**
   * `false`: a mutation that runs on the pool instead of inside one transaction, for hot paths made of statements
   * that are each atomic on their own (queue claims and completions). Default true.
   */
  transaction?: boolean;
  /**
   * A read that also answers as Server-Sent Events when the client asks for them (`Accept: text/event-stream`):
   * same path, auth, scopes and input. `stream` checks what it must (a 404 before `open()` is an ordinary error
   * response), opens the stream and writes events until the client hangs up (a run's live events).
   */
  stream?: (ctx: Ctx, input: z.output<I>, open: () => EventStream) => Promise<void>;
  /**
   * A read whose answer is bytes (a file's content, a backup): served raw with its content type and disposition
   * (the CLI and browsers take this). A client that asks for JSON only (`Accept: application/json`: MCP, agents'
   * tools) gets `handler`'s answer instead, the bytes in base64 beside the metadata. An operation whose bytes can be
   * too large for that (gigabytes of backup) declares no `handler`: it always answers raw and is no MCP tool.
   */
  binary?: (ctx: Ctx, input: z.output<I>) => Promise<BinaryBody>;
  /** The status of a successful answer when it depends on it (an upsert: 201 created, 200 updated); default `status`. */
  statusOf?: (output: z.input<O>) => number;
  /** Reads that may be served without a transaction; mutations always get one. Optional only beside `binary`. */
  handler?: (ctx: Ctx, input: z.output<I>) => Promise<z.input<O> | JsonText>;
}

/** How an operation takes a file (`upload`). */
export interface UploadSpec {
  /** The input field that carries the bytes base64-encoded in a JSON body. */
  field: string;
  /** The largest file accepted, in bytes (a raw body past it is a 413; base64 past it a 422 naming `field`). */
  limit: (cfg: import('../config.ts').Config) => number;
}

/** The bytes a `binary` operation answers with. */
export interface BinaryBody {
  body: Buffer | import('node:stream').Readable;
  contentType: string;
  /** For Content-Disposition (`attachment; filename=…`). */
  filename: string;
  size?: number;
  /** `inline` lets a browser show it (images, text); default `attachment`. */
  disposition?: 'inline' | 'attachment';
}

export interface Operation<I extends z.ZodObject = z.ZodObject, O extends z.ZodType = z.ZodType>
  extends Required<
    Omit<
      OperationSpec<I, O>,
      'description' | 'cli' | 'instanceAdmin' | 'orgParam' | 'destructive' | 'holdTtlSeconds' | 'rawBody' | 'settlement' | 'stream' | 'precheck' | 'ownAgent' | 'binary' | 'statusOf' | 'upload'
    >
  > {
  binary?: OperationSpec<I, O>['binary'];
  /** A `binary` operation with no JSON face: always raw, no MCP tool. */
  bytesOnly: boolean;
  upload?: UploadSpec;
  statusOf?: OperationSpec<I, O>['statusOf'];
  ownAgent: boolean;
  stream?: OperationSpec<I, O>['stream'];
  precheck?: OperationSpec<I, O>['precheck'];
  description?: string;
  settlement: 'with_action' | 'deferred';
  orgParam?: string;
  holdTtlSeconds: number;
  instanceAdmin: boolean;
  cli: CliHints & { args: string[] };
  /** Path parameter names, in order. */
  pathParams: string[];
  readOnly: boolean;
  destructive: boolean;
  rawBody: boolean;
}

/** An alias as written: `path`, or `METHOD path`. */
export function splitAlias(alias: string, method: HttpMethod): { method: HttpMethod; path: string } {
  const m = /^(GET|POST|PATCH|PUT|DELETE) (\/.*)$/.exec(alias);
  return m ? { method: m[1] as HttpMethod, path: m[2] } : { method, path: alias };
}

export function defineOperation<I extends z.ZodObject, O extends z.ZodType>(spec: OperationSpec<I, O>): Operation<I, O> {
  if ((spec.cost ?? 0) > 0 && ((spec.auth ?? 'org') !== 'org' || spec.method === 'GET')) {
    throw new Error(`${spec.id}: a paid operation must be an org-scoped mutation (its org pays)`);
  }
  if ((spec.cost ?? 0) > 0 && spec.transaction === false) throw new Error(`${spec.id}: a paid operation runs in a transaction`);
  if (!spec.handler && !spec.binary) throw new Error(`${spec.id}: an operation without a handler must be \`binary\``);
  if (spec.upload && spec.method === 'GET') throw new Error(`${spec.id}: an upload is not a GET`);
  const pathParams = [...spec.path.matchAll(/:([a-z_]+)/g)].map((m) => m[1]);
  for (const path of [spec.path, ...(spec.aliases ?? []).map((a) => splitAlias(a, spec.method).path)]) {
    for (const [, p] of path.matchAll(/:([a-z_]+)/g)) {
      if (!(p in spec.input.shape)) throw new Error(`${spec.id}: path parameter :${p} of ${path} is missing from its input schema`);
    }
  }
  return {
    ...spec,
    auth: spec.auth ?? 'org',
    instanceAdmin: spec.instanceAdmin ?? false,
    cost: spec.cost ?? 0,
    holdTtlSeconds: spec.holdTtlSeconds ?? 15 * 60,
    settlement: spec.settlement ?? 'with_action',
    status: spec.status ?? (spec.method === 'POST' ? 201 : 200),
    cli: { ...spec.cli, args: spec.cli?.args ?? pathParams },
    pathParams,
    readOnly: spec.method === 'GET',
    destructive: spec.destructive ?? spec.method === 'DELETE',
    rawBody: spec.rawBody ?? false,
    bytesOnly: !!spec.binary && !spec.handler,
    // Never called: a bytes-only operation's route always answers through `binary`.
    handler: spec.handler ?? (() => Promise.reject(new Error(`${spec.id} answers only with bytes`))),
    ownAgent: spec.ownAgent ?? false,
    aliases: spec.aliases ?? [],
    transaction: spec.transaction ?? true,
  };
}

/** `orgs.members.list` → `orgs_members_list` (MCP tool name). */
export const toolName = (id: string) => id.replaceAll('.', '_');
/** `auth.forgot_password` → [`auth`, `forgot-password`] (CLI words). */
export const commandWords = (id: string) => id.split('.').map((w) => w.replaceAll('_', '-'));
/** The CLI words of an operation: its own `cli.name` (space-separated) when it has one, else from its id. */
export const cliWords = (op: { id: string; cli?: { name?: string } }) => op.cli?.name?.split(' ') ?? commandWords(op.id);
