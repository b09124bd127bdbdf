// Opaque, prefixed, time-sortable ids: `<prefix>_<10 chars of ms time><16 random chars>`, Crockford base32.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

// Random bytes are drawn from a pooled buffer: a randomBytes call per id showed up in request profiles.
let pool = Buffer.alloc(0);
let offset = 0;

function encodeRandom(length: number): string {
  if (offset + length > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[pool[offset + i] & 31];
  offset += length;
  return out;
}

export const ID_PREFIXES = {
  org: 'org',
  user: 'usr',
  key: 'key',
  session: 'ses',
  member: 'mem',
  invite: 'inv',
  activity: 'act',
  request: 'req',
  email: 'eml',
  ledger: 'led',
  hold: 'hld',
  event: 'evt',
  job: 'job',
  schedule: 'sch',
  topupCharge: 'atc',
  worker: 'wrk',
  notification: 'ntf',
  webhook: 'whk',
  webhookDelivery: 'whd',
  agent: 'agt',
  template: 'tpl',
  rule: 'rule',
  team: 'team',
  teamMember: 'tmm',
  teamInvite: 'tinv',
  credential: 'cred',
  task: 'task',
  taskComment: 'tcm',
  run: 'run',
  file: 'file',
  record: 'rec',
  recordRevision: 'recv',
  backup: 'bak',
  folder: 'fld',
  document: 'doc',
  documentRevision: 'drv',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

export function newId(kind: IdKind): string {
  return `${ID_PREFIXES[kind]}_${encodeTime(Date.now())}${encodeRandom(16)}`;
}

/** Sorts before every id of `kind` made at `ms` or later and after every earlier one: a bound for time range scans. */
export function idFloor(kind: IdKind, ms: number): string {
  return `${ID_PREFIXES[kind]}_${encodeTime(ms)}`;
}
