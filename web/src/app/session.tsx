// Who is signed in and which org the dashboard acts on. The org is remembered per browser and sent as X-Org-Id;
// switching org remounts the pages so nothing of the previous org stays on screen.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useMemo, useState } from 'react';
import { api, currentOrg, ok, setCurrentOrg } from '../api/client';
import type { components } from '../api/schema';

type Me = Awaited<ReturnType<typeof fetchMe>>;
export type OrgRef = Me['orgs'][number];
const fetchMe = () => ok(api.GET('/api/v1/auth/me'));

export const useMe = () => useQuery({ queryKey: ['me'], queryFn: fetchMe, retry: false, staleTime: 60_000 });

interface OrgState {
  me: Me;
  org: OrgRef | null;
  switchOrg: (id: string) => void;
}
const Ctx = createContext<OrgState | null>(null);

export function SessionProvider({ me, children }: { me: Me; children: (org: OrgRef | null) => ReactNode }) {
  const qc = useQueryClient();
  const [wanted, setWanted] = useState(currentOrg());
  const org = me.orgs.find((o) => o.id === wanted) ?? me.orgs[0] ?? null;
  if (org && org.id !== currentOrg()) setCurrentOrg(org.id);
  const value = useMemo<OrgState>(
    () => ({
      me,
      org,
      switchOrg: (id) => {
        setCurrentOrg(id);
        qc.removeQueries({ predicate: (q) => !['me', 'openapi', 'setup'].includes(String(q.queryKey[0])) });
        setWanted(id);
      },
    }),
    [me, org, qc],
  );
  return <Ctx.Provider value={value}>{children(org)}</Ctx.Provider>;
}

export function useSession(): OrgState {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}

/** Whether the caller's role may write what needs `admin` (keys, members, billing, webhooks, org settings). */
export const isAdmin = (org: OrgRef | null) => org?.role === 'owner' || org?.role === 'admin';

export type Schemas = components['schemas'];

export async function signOut(allDevices = false) {
  await fetch('/api/v1/auth/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ all_devices: allDevices }) });
  setCurrentOrg(null);
  window.location.assign('/sign-in');
}
