// The overview's first two reads, shared with the route's loader: they start with the navigation, alongside the
// session check and the page's code, instead of after both (one round trip less before the page is useful).
import type { QueryClient } from '@tanstack/react-query';
import { api, ok } from '../api/client';

export const walletQuery = { queryKey: ['wallet'], queryFn: () => ok(api.GET('/api/v1/wallet')) };
export const planQuery = { queryKey: ['plan-summary'], queryFn: () => ok(api.GET('/api/v1/billing/plan-summary')) };

export function prefetchOverview(qc: QueryClient) {
  // Not awaited: the page renders as soon as its code is here and shows what has arrived.
  qc.prefetchQuery(walletQuery);
  qc.prefetchQuery(planQuery);
  return null;
}
