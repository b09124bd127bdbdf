// pg-boss in the same database (schema `pgboss`), LISTEN/NOTIFY on (DESIGN §1, §7).
import { PgBoss } from 'pg-boss';

export function createQueue(databaseUrl: string): PgBoss {
  return new PgBoss({ connectionString: databaseUrl, schema: 'pgboss', useListenNotify: true, max: 5 });
}
