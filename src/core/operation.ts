// The operation registry (DESIGN §3): each endpoint is declared once and becomes a route, an OpenAPI operation,
// a CLI command and an MCP tool.
import type { z } from 'zod';
import type { EventStream } from '../http/sse.ts';
import type { Ctx } from './context.ts';

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
   * Uploads: the option `from` names a local file the CLI reads and sends base64-encoded in the field `into`
   * (`opsbase files create --path ./contract.pdf`); `from` itself is still sent (its `./` dropped).
   */
  upload?: { from: string; into: string };
  /** Downloads: the command takes `--out FILE` and writes the base64 field `field` of the answer there (or to stdout). */
  download?: { field: string };
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
   * A file download: the handler returns a `Download` (src/http/download.ts), sent as raw bytes with
   * Content-Disposition; the CLI writes it to `--out` or stdout. Not an MCP tool (bytes are no tool result).
   */
  download?: boolean;
  /**
   * A file upload: the request body is the file (`application/octet-stream` or `application/gzip`, up to
   * OPSBASE_UPLOAD_LIMIT_BYTES), given to the handler as `ctx.request.rawBody`; the input comes from the query string.
   * The CLI sends `--file <path>`. Not an MCP tool.
   */
  upload?: boolean;
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
   * A read whose answer is bytes (a file's content): served raw with its content type and disposition unless the
   * client asks for JSON (`Accept: application/json`, as the CLI and MCP do), which gets `handler`'s answer (the
   * bytes in base64 beside the metadata).
   */
  binary?: (ctx: Ctx, input: z.output<I>) => Promise<BinaryBody>;
  /** Bodies larger than the instance's default are accepted up to this many bytes (uploads in base64). */
  bodyLimit?: (cfg: import('../config.ts').Config) => number;
  /** The status of a successful answer when it depends on it (an upsert: 201 created, 200 updated); default `status`. */
  statusOf?: (output: z.input<O>) => number;
  /** Reads that may be served without a transaction; mutations always get one. */
  handler: (ctx: Ctx, input: z.output<I>) => Promise<z.input<O>>;
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
      'description' | 'cli' | 'instanceAdmin' | 'orgParam' | 'destructive' | 'holdTtlSeconds' | 'rawBody' | 'settlement' | 'stream' | 'precheck' | 'ownAgent' | 'binary' | 'bodyLimit' | 'statusOf' | 'download' | 'upload'
    >
  > {
  binary?: OperationSpec<I, O>['binary'];
  bodyLimit?: OperationSpec<I, O>['bodyLimit'];
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
  download: boolean;
  upload: boolean;
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
    download: spec.download ?? false,
    upload: spec.upload ?? false,
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
