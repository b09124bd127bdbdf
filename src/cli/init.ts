// `opsbase init`: the first owner (instance admin), their org and an API key, written straight to the database
// (embedded or DATABASE_URL), so it works whether or not the server is running.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { closeServices, openServices } from '../app.ts';
import { config } from '../config.ts';
import { systemCtx } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import { createLogger } from '../http/logger.ts';
import { createKey } from '../modules/keys/service.ts';
import { createOrg } from '../modules/orgs/service.ts';
import { createUser, presentUser } from '../modules/users/service.ts';
import { users } from '../db/schema/users.ts';

export const InitInput = z.object({
  email: z.email(),
  password: z.string().min(8, 'the password needs at least 8 characters').max(200),
  org: z.string().trim().min(1).max(100),
  username: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,40}$/)
    .optional(),
});

function usernameFrom(email: string): string {
  const local = email
    .split('@')[0]
    .replace(/[^A-Za-z0-9_.-]/g, '')
    .slice(0, 30);
  return local.length >= 3 ? local : `user_${randomBytes(3).toString('hex')}`;
}

export async function runInit(raw: unknown) {
  const input = InitInput.parse(raw);
  const cfg = config();
  // Logs go to stderr so `--json` output on stdout stays clean.
  const log = createLogger(cfg.LOG_LEVEL === 'info' ? 'warn' : cfg.LOG_LEVEL, process.stderr);
  const services = await openServices(cfg, log);
  try {
    return await services.database.db.transaction(async (tx) => {
      const ctx = systemCtx(services, tx);
      const [existing] = await tx.select({ id: users.id }).from(users).limit(1);
      if (existing) {
        throw new AppError('conflict', 'This instance is already initialised: log in (`opsbase login`) or register a new account instead.');
      }
      const user = await createUser(ctx, { email: input.email, password: input.password, username: input.username ?? usernameFrom(input.email) });
      const userCtx = { ...ctx, actorType: 'user' as const, actorId: user.id, userId: user.id };
      const org = await createOrg(userCtx, { name: input.org }, user.id);
      const key = await createKey({ ...userCtx, orgId: org.id, role: 'owner' }, { name: 'default', scopes: ['*'] });
      return { user: presentUser(user), org, key };
    });
  } finally {
    await closeServices(services);
  }
}
