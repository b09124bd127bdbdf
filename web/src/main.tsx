// The dashboard's entry: routes (each designed page its own chunk), the query client, and sign-in redirects.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, Navigate, Outlet, RouterProvider, useLocation } from 'react-router';
import { ApiError, whenSignedOut } from './api/client';
import { SessionProvider, useMe } from './app/session';
import { Shell } from './app/shell';
import { prefetchOverview } from './pages/overview-queries';
import { SignIn } from './pages/sign-in';
import { ErrorNote, Loading } from './ui/kit';
import './index.css';

whenSignedOut(() => {
  const here = window.location.pathname + window.location.search;
  if (!here.startsWith('/sign-in')) window.location.assign(`/sign-in?next=${encodeURIComponent(here)}`);
});

const qc = new QueryClient({
  defaultOptions: {
    queries: { staleTime: 10_000, refetchOnWindowFocus: false, retry: (n, err) => n < 2 && !(err instanceof ApiError && err.status < 500) },
  },
});

/** Signed-in pages: the session and the org; no org yet → create one first. */
function RequireSession({ needsOrg }: { needsOrg: boolean }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <Loading />;
  if (me.error) return me.error instanceof ApiError && me.error.status === 401 ? <Loading label="Signing in…" /> : <ErrorNote error={me.error} />;
  return (
    <SessionProvider me={me.data}>
      {(org) => (needsOrg && !org ? <Navigate to={`/welcome?next=${encodeURIComponent(location.pathname)}`} replace /> : needsOrg ? <Shell /> : <Outlet />)}
    </SessionProvider>
  );
}

const page = (load: () => Promise<{ default: React.ComponentType }>) => async () => ({ Component: (await load()).default });

const router = createBrowserRouter([
  { path: '/sign-in', element: <SignIn /> },
  {
    element: <RequireSession needsOrg={false} />,
    children: [
      { path: '/welcome', lazy: page(() => import('./pages/welcome')) },
      { path: '/accept-invite', lazy: page(() => import('./pages/accept-invite')) },
    ],
  },
  {
    element: <RequireSession needsOrg />,
    children: [
      { index: true, loader: () => prefetchOverview(qc), lazy: page(() => import('./pages/overview')) },
      { path: '/tasks', lazy: page(() => import('./pages/tasks/tasks')) },
      { path: '/tasks/:id', lazy: page(() => import('./pages/tasks/detail')) },
      { path: '/runs/:id', lazy: page(() => import('./pages/runs/run')) },
      { path: '/search', lazy: page(() => import('./pages/search/search')) },
      { path: '/documents', lazy: page(() => import('./pages/documents/documents')) },
      { path: '/documents/:id', lazy: page(() => import('./pages/documents/detail')) },
      { path: '/agents', lazy: page(() => import('./pages/agents/agents')) },
      { path: '/agents/:id', lazy: page(() => import('./pages/agents/detail')) },
      { path: '/files', lazy: page(() => import('./pages/files/files')) },
      { path: '/records', lazy: page(() => import('./pages/records/records')) },
      { path: '/keys', lazy: page(() => import('./pages/keys')) },
      { path: '/keys/:id', lazy: page(() => import('./pages/key-detail')) },
      { path: '/members', lazy: page(() => import('./pages/members')) },
      { path: '/teams', lazy: page(() => import('./pages/teams')) },
      { path: '/vault', lazy: page(() => import('./pages/vault')) },
      { path: '/integrations', lazy: page(() => import('./pages/integrations')) },
      { path: '/billing', lazy: page(() => import('./pages/billing')) },
      { path: '/webhooks', lazy: page(() => import('./pages/webhooks')) },
      { path: '/webhooks/:id', lazy: page(() => import('./pages/webhook-detail')) },
      { path: '/queue', lazy: page(() => import('./pages/queue')) },
      { path: '/queue/jobs/:id', lazy: page(() => import('./pages/job-detail')) },
      { path: '/notifications', lazy: page(() => import('./pages/notifications')) },
      { path: '/backups', lazy: page(() => import('./pages/backups')) },
      { path: '/activity', lazy: page(() => import('./pages/activity')) },
      { path: '/settings', lazy: page(() => import('./pages/settings')) },
      { path: '/ops', lazy: page(() => import('./pages/operations')) },
      { path: '/ops/:opId', lazy: page(() => import('./pages/operation')) },
      { path: '*', lazy: page(() => import('./pages/not-found')) },
    ],
  },
]);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={qc}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
