import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Deleted, IdParam } from '../../core/schemas.ts';
import { User } from './schemas.ts';
import * as users from './service.ts';

const columns = ['id', 'username', 'email', 'role', 'created_at'];
const id = IdParam('User');

export const listUsers = defineOperation({
  id: 'users.list',
  method: 'GET',
  path: '/users',
  summary: 'List the accounts of this instance (instance admins)',
  auth: 'user',
  instanceAdmin: true,
  scopes: [],
  input: PageInput.extend({ q: z.string().max(200).optional().describe('Search email or username'), role: z.enum(['admin', 'user']).optional() }),
  output: listOf(User),
  cli: { columns },
  handler: (ctx, input) => users.listUsers(ctx, input),
});

export const getUser = defineOperation({
  id: 'users.get',
  method: 'GET',
  path: '/users/:id',
  summary: 'Get an account (instance admins)',
  auth: 'user',
  instanceAdmin: true,
  scopes: [],
  input: z.object({ id }),
  output: User,
  cli: { columns },
  handler: async (ctx, input) => users.presentUser(await users.findUser(ctx, input.id)),
});

export const updateUser = defineOperation({
  id: 'users.update',
  method: 'PATCH',
  path: '/users/:id',
  summary: "Change an account's instance role or name (instance admins)",
  auth: 'user',
  instanceAdmin: true,
  scopes: [],
  input: z.object({ id, role: z.enum(['admin', 'user']).optional(), name: z.string().max(200).nullish() }),
  output: User,
  cli: { columns },
  handler: (ctx, input) => users.updateUser(ctx, input),
});

export const deleteUser = defineOperation({
  id: 'users.delete',
  method: 'DELETE',
  path: '/users/:id',
  summary: 'Erase another account (instance admins; not yourself)',
  auth: 'user',
  instanceAdmin: true,
  scopes: [],
  input: z.object({ id }),
  output: Deleted,
  handler: (ctx, input) => users.deleteUser(ctx, input.id),
});

export const deleteMe = defineOperation({
  id: 'users.delete_me',
  method: 'DELETE',
  path: '/users/me',
  summary: 'Erase your own account (confirm with your password; the last owner of an org must transfer it first)',
  auth: 'user',
  scopes: [],
  input: z.object({ password: z.string().min(1).max(200) }),
  output: Deleted,
  handler: (ctx, input) => users.deleteMe(ctx, input.password),
});

export const userOperations = [listUsers, getUser, updateUser, deleteUser, deleteMe];
