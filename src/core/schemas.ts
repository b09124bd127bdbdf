// Small schema pieces shared by many operations.
import { z } from 'zod';

export const Timestamp = z.string().describe('ISO 8601 UTC timestamp');
export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/** A path id: prefixed, e.g. `key_01h…`. Anything else is simply not found, never a 500. */
export const IdParam = (what: string) => z.string().min(1).max(64).describe(`${what} id`);

export const Deleted = z.object({ id: z.string(), deleted: z.literal(true) });

/** `?flag=true|false` in query strings; plain booleans in JSON bodies. */
export const QueryBool = z.stringbool();

export const Scope = z.string().regex(/^(\*|[a-z_]+:(read|write|\*))$/, 'a scope is `<resource>:read`, `<resource>:write`, `<resource>:*` or `*`');

/** The output of a bytes-only `binary` operation (a backup's file): OpenAPI shows it as a binary string. */
export const FileBytes = z.any().meta({ id: 'FileBytes', type: 'string', format: 'binary', description: 'The file itself (raw bytes, not JSON)' });
