// JSON written by PostgreSQL, compact as JSON.stringify writes it, for a response the server sends as it is
// (core/json-text.ts). `concat` of each key and its value's JSON text: json_build_object would add spaces around
// every `:` and after every `,` (8 % of a task page), and measured no faster.
import { type SQL, sql } from 'drizzle-orm';

/** The JSON text of an SQL value (to_json's: strings escaped, arrays as arrays), `null` for NULL. */
export const jsonValue = (expr: SQL) => sql`coalesce(to_json(${expr})::text, 'null')`;

/** An object of `fields` in their order; each value is JSON text already (jsonValue, or a nested jsonObject). */
export function jsonObject(fields: [key: string, value: SQL][]): SQL {
  const parts = fields.flatMap(([key, value], i) => {
    if (!/^[a-z_]+$/.test(key)) throw new Error(`not a plain key: ${key}`);
    return [sql.raw(`'${i ? ',' : '{'}"${key}":'`), value];
  });
  return sql`concat(${sql.join([...parts, sql.raw(`'}'`)], sql`, `)})`;
}

/** The JSON array of `item` (JSON text) over the rows, in `order`, of those `where` keeps: `[]` when none. */
export const jsonArray = (item: SQL, order: SQL, where: SQL) =>
  sql`'[' || coalesce(string_agg(${item}, ',' order by ${order}) filter (where ${where}), '') || ']'`;
