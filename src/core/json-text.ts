// A response body the database already wrote as JSON (db/json-sql.ts): the server sends its text as
// it is, with no parse into objects, no output-schema pass and no JSON.stringify. For the hottest reads only (a task
// list page), where that round of JavaScript is most of what the API adds to the query (docs/tasks.md). The SQL that
// builds it must give what the operation's presenter gives, field for field: a test holds each such pair together,
// since the output schema is not applied to it (the tasks list: test/tasks.test.ts).
export class JsonText {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

/**
 * An object written around JSON the database built: `fields` are serialized here, `raw` are spliced in as they are.
 * Keys are trusted identifiers (written in code), never input.
 */
export function objectWithJson(raw: Record<string, string>, fields: Record<string, unknown>): JsonText {
  const parts = Object.entries(raw).map(([k, text]) => `${JSON.stringify(k)}:${text}`);
  const rest = JSON.stringify(fields);
  if (rest !== '{}') parts.push(rest.slice(1, -1));
  return new JsonText(`{${parts.join(',')}}`);
}
