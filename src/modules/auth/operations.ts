import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { Timestamp } from '../../core/schemas.ts';
import { Email, Password, User } from '../users/schemas.ts';
import * as auth from './service.ts';

const Session = z
  .object({
    user: User,
    token: z.string().describe('Session token: `Authorization: Bearer <token>`'),
    refresh_token: z.string().describe('Trade it for new tokens at /auth/refresh (single use)'),
    expires_at: Timestamp,
    refresh_expires_at: Timestamp,
    session_id: z.string(),
  })
  .meta({ id: 'Session' });

const Ok = z.object({ ok: z.literal(true), message: z.string() });
const accepted = (what: string) => z.literal(true, { error: `${what} must be accepted (true)` });

export const register = defineOperation({
  id: 'auth.register',
  method: 'POST',
  path: '/auth/register',
  summary: 'Create an account (the first account becomes the instance admin) and log in',
  auth: 'public',
  scopes: [],
  input: z.object({
    username: z
      .string()
      .min(3)
      .max(40)
      .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, `_`, `.` and `-` only'),
    email: Email,
    password: Password,
    name: z.string().max(200).nullish(),
    terms_accepted: accepted('The terms'),
    privacy_accepted: accepted('The privacy policy'),
  }),
  output: Session,
  cli: { columns: ['session_id', 'expires_at'] },
  handler: (ctx, input) => auth.register(ctx, input),
});

export const login = defineOperation({
  id: 'auth.login',
  method: 'POST',
  path: '/auth/login',
  summary: 'Log in with email and password',
  auth: 'public',
  scopes: [],
  status: 200,
  input: z.object({ email: Email, password: z.string().min(1).max(200) }),
  output: Session,
  cli: { columns: ['session_id', 'expires_at'] },
  // The attempt is counted on the pool and must stay counted when the login fails: the service opens its own
  // transaction for the session once the password checks out (a connection held across the slow password check
  // would also let a burst of logins exhaust the pool).
  transaction: false,
  handler: (ctx, input) => auth.login(ctx, input),
});

export const refresh = defineOperation({
  id: 'auth.refresh',
  method: 'POST',
  path: '/auth/refresh',
  summary: 'Trade a refresh token for a new token pair',
  auth: 'public',
  scopes: [],
  status: 200,
  input: z.object({ refresh_token: z.string().min(1).max(200) }),
  output: Session,
  cli: { columns: ['session_id', 'expires_at'] },
  handler: (ctx, input) => auth.refresh(ctx, input.refresh_token),
});

export const logout = defineOperation({
  id: 'auth.logout',
  method: 'POST',
  path: '/auth/logout',
  summary: 'Log out this session, or every session with `all_devices`',
  auth: 'user',
  scopes: [],
  status: 200,
  input: z.object({ all_devices: z.boolean().default(false) }),
  output: z.object({ ok: z.literal(true), revoked_sessions: z.number().int() }),
  handler: (ctx, input) => auth.logout(ctx, input.all_devices),
});

export const me = defineOperation({
  id: 'auth.me',
  method: 'GET',
  path: '/auth/me',
  summary: 'The logged-in user and their orgs',
  auth: 'user',
  scopes: [],
  input: z.object({}),
  output: User.extend({
    orgs: z.array(z.object({ id: z.string(), name: z.string(), slug: z.string(), role: z.enum(['owner', 'admin', 'member', 'viewer']) })),
  }),
  cli: { columns: ['id', 'username', 'email', 'role'] },
  handler: (ctx) => auth.me(ctx),
});

export const forgotPassword = defineOperation({
  id: 'auth.forgot_password',
  method: 'POST',
  path: '/auth/forgot-password',
  summary: 'Email a password reset link (always answers 200)',
  auth: 'public',
  scopes: [],
  status: 200,
  input: z.object({ email: Email }),
  output: Ok,
  handler: (ctx, input) => auth.forgotPassword(ctx, input.email),
});

export const resetPassword = defineOperation({
  id: 'auth.reset_password',
  method: 'POST',
  path: '/auth/reset-password',
  summary: 'Set a new password with the token from the reset email (logs out every session)',
  auth: 'public',
  scopes: [],
  status: 200,
  input: z.object({ token: z.string().min(1).max(200), password: Password }),
  output: Ok,
  handler: (ctx, input) => auth.resetPassword(ctx, input),
});

export const changePassword = defineOperation({
  id: 'auth.change_password',
  method: 'POST',
  path: '/auth/change-password',
  summary: 'Change your password, confirming the current one (logs out your other sessions; this one stays)',
  auth: 'user',
  scopes: [],
  status: 200,
  input: z.object({ current_password: z.string().min(1).max(200), new_password: Password }),
  output: Ok.extend({ revoked_sessions: z.number().int().describe('Other sessions logged out') }),
  handler: (ctx, input) => auth.changePassword(ctx, input),
});

export const authOperations = [register, login, refresh, logout, me, forgotPassword, resetPassword, changePassword];
