// `opsbase login` (email and password, or --api-key) and `opsbase logout`: the saved credential in
// $XDG_CONFIG_HOME/opsbase/config.json. The password comes from --password-stdin or a hidden prompt, never needs
// to be an argument (--password still works for old scripts).
import type { Command } from 'commander';
import { routePath } from '../core/http-request.ts';
import { globalsOf, guard, report } from './action.ts';
import { type ApiResult, type GlobalOptions, request, resolveTarget, type Target } from './client.ts';
import { clearCredential, readSaved, writeSaved } from './config-file.ts';
import { findContract } from './contract.ts';
import { ask, passwordFor } from './prompt.ts';
import { printJson } from './render.ts';

interface LoginBody {
  token: string;
  refresh_token?: string;
  user?: { id?: string; email?: string };
}

interface LoginOptions {
  email?: string;
  password?: string;
  passwordStdin?: boolean;
}

async function loginWithPassword(command: Command, globals: GlobalOptions, opts: LoginOptions) {
  const op = findContract('auth.login');
  if (!op) throw new Error('this CLI has no `auth.login` operation');
  if (!opts.email && (opts.passwordStdin || !process.stdin.isTTY)) {
    command.error('error: pass --email (with --password-stdin, or on a terminal to be asked the password), or --api-key obk_….', { exitCode: 2 });
  }
  const email = opts.email || (await ask('Email: ')).trim();
  const password = await passwordFor(command, opts);
  const target: Target = { ...resolveTarget(globals), token: undefined, savedSession: false };
  const res = await request(target, 'POST', routePath(op), { body: { email, password } });
  if (res.status >= 400) return report(res, globals, undefined);
  const body = res.body as LoginBody;
  const path = writeSaved({
    api_url: target.apiUrl,
    token: body.token,
    refresh_token: body.refresh_token,
    user_id: body.user?.id,
    email: body.user?.email ?? email,
    ...(globals.orgId ? { org_id: globals.orgId } : {}),
  });
  if (globals.json) printJson(res.text);
  else console.log(`Logged in as ${body.user?.email ?? email} on ${target.apiUrl}; session saved to ${path}`);
}

async function loginWithKey(globals: GlobalOptions, key: string) {
  const target = resolveTarget(globals);
  const whoami = findContract('whoami');
  let res: ApiResult | undefined;
  // Check the key before saving it, so a typo fails here rather than on the next command.
  if (whoami) {
    res = await request({ ...target, token: key, savedSession: false }, 'GET', routePath(whoami));
    if (res.status >= 400) return report(res, globals, undefined);
  }
  const path = writeSaved({ api_url: target.apiUrl, token: key, ...(globals.orgId ? { org_id: globals.orgId } : {}) });
  const org = (res?.body as { org?: { id?: string; name?: string } } | undefined)?.org;
  if (globals.json) printJson(res?.text ?? '');
  else console.log(`Saved the API key${org ? ` of org ${org.name} (${org.id})` : ''} for ${target.apiUrl} to ${path}`);
}

async function logout(globals: GlobalOptions, opts: { allDevices?: boolean }) {
  const saved = readSaved();
  if (!saved.token) {
    if (!globals.json) console.log('Not logged in.');
    return;
  }
  const op = findContract('auth.logout');
  let res: ApiResult | undefined;
  let failure: unknown;
  // API keys are not sessions: there is nothing to end on the server, only the saved copy to forget.
  if (op && !saved.token.startsWith('obk_')) {
    const target: Target = { apiUrl: saved.api_url ?? resolveTarget(globals).apiUrl, token: saved.token, savedSession: false };
    res = await request(target, 'POST', routePath(op), { body: opts.allDevices ? { all_devices: true } : {} }).catch((err: unknown) => {
      failure = err;
      return undefined;
    });
  }
  // Forget the credential whatever the server said: the user asked to be logged out here.
  const path = clearCredential();
  if (failure) throw failure;
  // 401: the session had already ended, which is what logging out wants.
  if (res && res.status >= 400 && res.status !== 401) return report(res, globals, undefined);
  if (globals.json) printJson(res && res.status < 400 ? res.text : '');
  else console.log(`Logged out; removed the saved credential from ${path}`);
}

export function registerSessionCommands(program: Command) {
  program
    .command('login')
    .description(
      'Log in with email and password and save the session (mode 0600) to $XDG_CONFIG_HOME/opsbase/config.json; ' +
        'with --api-key, save that key instead. Later commands use it when no --api-key / OPSBASE_API_KEY is given.',
    )
    .option('--email <email>', 'your email (asked on a terminal when omitted)')
    .option('--password-stdin', 'read the password from stdin (for scripts); on a terminal it is asked without echo')
    .option('--password <password>', 'the password as an argument: visible to other users in `ps`; prefer --password-stdin')
    .action(async (opts: LoginOptions, command: Command) => {
      const globals = globalsOf(command);
      await guard(globals, async () => {
        if (globals.apiKey && (opts.email || opts.password || opts.passwordStdin)) {
          command.error('error: use either --api-key or --email/--password-stdin.', { exitCode: 2 });
        }
        if (globals.apiKey) await loginWithKey(globals, globals.apiKey);
        else await loginWithPassword(command, globals, opts);
      });
    });

  program
    .command('logout')
    .description('End the saved session on the server and remove the credential from the config file')
    .option('--all-devices', 'end every session of this user, not only this one')
    .action(async (opts: { allDevices?: boolean }, command: Command) => {
      const globals = globalsOf(command);
      await guard(globals, () => logout(globals, opts));
    });
}
