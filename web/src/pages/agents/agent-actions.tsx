// Start / stop / restart an agent: only the moves its status allows are offered; each button names its agent
// (a page can show many).
import { Button, ErrorNote } from '../../ui/kit';
import { type Agent, useLifecycle } from './api';

export function AgentActions({ agent }: { agent: Agent }) {
  const act = useLifecycle();
  const go = (verb: 'start' | 'stop' | 'restart') => act.mutate({ id: agent.id, verb });
  const stopped = agent.status === 'paused' || agent.status === 'offline';
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap gap-1">
        {stopped ? (
          <Button variant="secondary" disabled={act.isPending} onClick={() => go('start')} aria-label={`Start ${agent.name}`}>
            Start
          </Button>
        ) : (
          <Button variant="secondary" disabled={act.isPending} onClick={() => go('stop')} aria-label={`Stop ${agent.name}`}>
            Stop
          </Button>
        )}
        {agent.status !== 'offline' && (
          <Button variant="ghost" disabled={act.isPending} onClick={() => go('restart')} aria-label={`Restart ${agent.name}`}>
            Restart
          </Button>
        )}
      </div>
      {act.error && <ErrorNote error={act.error} />}
    </div>
  );
}
