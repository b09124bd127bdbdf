// What the dashboard knows of the instance before and besides any operation: whether it is empty (first account)
// and whether it sends email (GET /api/dashboard/setup, src/http/static.ts).
import { useQuery } from '@tanstack/react-query';

export interface Setup {
  first_account: boolean;
  email: boolean;
}

export const useSetup = () =>
  useQuery({ queryKey: ['setup'], queryFn: async () => (await (await fetch('/api/dashboard/setup')).json()) as Setup, staleTime: 60_000 });
