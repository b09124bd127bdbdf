// The frame around every signed-in page: sidebar of areas, org switcher, notifications badge, theme, palette.
import * as Menu from '@radix-ui/react-dropdown-menu';
import { useQuery } from '@tanstack/react-query';
import { Suspense, useState } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { api, ok } from '../api/client';
import { Button, Loading } from '../ui/kit';
import { NAV } from './nav';
import { Palette, usePaletteShortcut } from './palette';
import { signOut, useSession } from './session';
import { useStream } from './stream';
import { useTheme } from './theme';

const menuItem = 'cursor-pointer rounded px-2 py-1.5 text-sm outline-none data-[highlighted]:bg-indigo-600 data-[highlighted]:text-white';
const menuBox = 'z-50 min-w-48 rounded-md border border-zinc-200 bg-white p-1 shadow-lg dark:border-zinc-800 dark:bg-zinc-900';

function OrgSwitcher() {
  const { me, org, switchOrg } = useSession();
  const navigate = useNavigate();
  return (
    <Menu.Root>
      <Menu.Trigger asChild>
        <Button variant="secondary" aria-label={`Organization: ${org?.name ?? 'none'}. Switch organization`}>
          <span className="max-w-28 truncate sm:max-w-40">{org?.name ?? 'No org'}</span>
          <span aria-hidden="true">▾</span>
        </Button>
      </Menu.Trigger>
      <Menu.Portal>
        <Menu.Content className={menuBox} align="start">
          <Menu.Label className="px-2 py-1 text-xs text-zinc-600 dark:text-zinc-400">Organizations</Menu.Label>
          {me.orgs.map((o) => (
            <Menu.Item key={o.id} className={menuItem} onSelect={() => switchOrg(o.id)}>
              {o.name} <span className="opacity-75">· {o.role}</span>
            </Menu.Item>
          ))}
          <Menu.Separator className="my-1 h-px bg-zinc-200 dark:bg-zinc-800" />
          <Menu.Item className={menuItem} onSelect={() => navigate('/welcome')}>
            New organization…
          </Menu.Item>
        </Menu.Content>
      </Menu.Portal>
    </Menu.Root>
  );
}

function UnreadBadge() {
  const unread = useQuery({ queryKey: ['notifications', 'unread'], queryFn: () => ok(api.GET('/api/v1/notifications/unread-count')) });
  useStream('notifications', ['notifications'], [['notifications']]);
  const n = unread.data?.unread ?? 0;
  return n > 0 ? (
    <span className="ml-auto rounded-full bg-indigo-600 px-1.5 text-xs font-semibold text-white group-aria-[current=page]:bg-white group-aria-[current=page]:text-indigo-800">
      {n}
      <span className="sr-only"> unread</span>
    </span>
  ) : null;
}

export function Shell() {
  const { me, org } = useSession();
  const [theme, toggleTheme] = useTheme();
  const [palette, setPalette] = useState(false);
  usePaletteShortcut(setPalette);
  return (
    <div className="flex min-h-screen flex-col md:flex-row">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:p-2 dark:focus:bg-zinc-900">
        Skip to content
      </a>
      {/* One navigation landmark: a sidebar on wide screens, a scrolling strip above the page on narrow ones. */}
      <nav
        aria-label="Areas"
        className="shrink-0 border-b border-zinc-200 bg-zinc-50 p-2 md:w-56 md:border-b-0 md:border-r md:p-3 dark:border-zinc-800 dark:bg-zinc-900"
      >
        <div className="mb-4 hidden px-2 text-lg font-bold tracking-tight md:block">Opsbase</div>
        <ul className="flex gap-1 overflow-x-auto md:block md:space-y-0.5">
          {NAV.filter((n) => !n.adminOnly || me.role === 'admin').map((n) => (
            <li key={n.path} className="shrink-0">
              <NavLink
                to={n.path}
                end={n.path === '/'}
                className={({ isActive }) =>
                  `group flex items-center gap-2 whitespace-nowrap rounded-md px-2 py-1.5 text-sm ${isActive ? 'bg-indigo-600 text-white' : 'text-zinc-800 hover:bg-zinc-200 dark:text-zinc-200 dark:hover:bg-zinc-800'}`
                }
              >
                {n.label}
                {n.path === '/notifications' && org && <UnreadBadge />}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex items-center gap-1 border-b border-zinc-200 px-2 py-2 md:gap-2 md:px-4 dark:border-zinc-800">
          <OrgSwitcher />
          <Button variant="secondary" className="ml-auto" onClick={() => setPalette(true)} aria-keyshortcuts="Control+K">
            Search <kbd className="hidden rounded border border-zinc-300 px-1 text-xs sm:inline dark:border-zinc-600">Ctrl K</kbd>
          </Button>
          <Button variant="ghost" onClick={toggleTheme} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
            {theme === 'dark' ? '☀' : '☾'}
          </Button>
          <Menu.Root>
            <Menu.Trigger asChild>
              <Button variant="ghost" aria-label={`Account: ${me.email}`}>
                <span className="max-w-24 truncate">{me.username}</span>
              </Button>
            </Menu.Trigger>
            <Menu.Portal>
              <Menu.Content className={menuBox} align="end">
                <Menu.Label className="px-2 py-1 text-xs text-zinc-600 dark:text-zinc-400">{me.email}</Menu.Label>
                <Menu.Item className={menuItem} onSelect={() => signOut()}>
                  Sign out
                </Menu.Item>
              </Menu.Content>
            </Menu.Portal>
          </Menu.Root>
        </header>
        <main id="main" className="mx-auto w-full max-w-6xl flex-1 p-4 md:p-6" key={org?.id ?? 'none'}>
          <Suspense fallback={<Loading />}>
            <Outlet />
          </Suspense>
        </main>
      </div>
      <Palette open={palette} onOpenChange={setPalette} />
    </div>
  );
}
