// Live updates from the server's Server-Sent Events: a signal invalidates the queries a page shows, which then
// refetch through the ordinary API. EventSource reconnects on its own (the server asks for 2 s).
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { currentOrg } from '../api/client';

/** Invalidates the queries under each `keys` prefix whenever `topic` signals one of `events`. */
export function useStream(topic: 'queue' | 'notifications', events: string[], keys: string[][]) {
  const qc = useQueryClient();
  const id = `${topic}|${events.join(',')}|${JSON.stringify(keys)}`;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `id` is the identity of events and keys.
  useEffect(() => {
    // EventSource cannot send headers: the org travels as a query parameter (the session cookie goes as usual).
    const org = currentOrg();
    const src = new EventSource(`/api/v1/streams/${topic}${org ? `?org=${encodeURIComponent(org)}` : ''}`);
    const onEvent = () => {
      for (const key of keys) qc.invalidateQueries({ queryKey: key });
    };
    for (const e of events) src.addEventListener(e, onEvent);
    return () => src.close();
  }, [id, qc]);
}
