// The reporting tree from `reports_to`, drawn with nested lists and CSS connectors (a screen reader hears the
// nesting). An agent whose manager is not in the list starts a tree of its own, so nobody goes missing.
import { Link } from 'react-router';
import { Badge } from '../../ui/kit';
import { type Agent, agentLabel, agentTone } from './api';

const BRANCH =
  'relative pl-6 before:absolute before:left-0 before:top-0 before:h-full before:border-l before:border-zinc-300 after:absolute after:left-0 after:top-5 after:w-5 after:border-t after:border-zinc-300 last:before:h-5 dark:before:border-zinc-700 dark:after:border-zinc-700';

function Node({ agent, reports, root }: { agent: Agent; reports: Map<string, Agent[]>; root?: boolean }) {
  const below = reports.get(agent.id) ?? [];
  return (
    <li className={root ? 'mb-3' : BRANCH}>
      <div className="my-1.5 inline-flex items-center gap-2 rounded-md border border-zinc-200 bg-white px-3 py-1.5 shadow-sm dark:border-zinc-700 dark:bg-zinc-900">
        <span aria-hidden="true" className="size-2.5 shrink-0 rounded-full" style={{ background: agent.color ?? '#6366f1' }} />
        <Link to={`/agents/${agent.name}`} className="text-sm font-medium underline">
          {agentLabel(agent)}
        </Link>
        {agent.role && <span className="text-xs text-zinc-600 dark:text-zinc-400">{agent.role}</span>}
        <Badge tone={agentTone(agent.status)}>{agent.status}</Badge>
      </div>
      {below.length > 0 && (
        <ul className="ml-4">
          {below.map((a) => (
            <Node key={a.id} agent={a} reports={reports} />
          ))}
        </ul>
      )}
    </li>
  );
}

export function OrgChart({ agents }: { agents: Agent[] }) {
  const ids = new Set(agents.map((a) => a.id));
  const reports = new Map<string, Agent[]>();
  const roots: Agent[] = [];
  for (const a of [...agents].sort((x, y) => x.name.localeCompare(y.name))) {
    if (a.reports_to && ids.has(a.reports_to)) reports.set(a.reports_to, [...(reports.get(a.reports_to) ?? []), a]);
    else roots.push(a);
  }
  if (!agents.length) return <p className="text-sm text-zinc-600 dark:text-zinc-400">No agents yet.</p>;
  return (
    <ul aria-label="Org chart">
      {roots.map((a) => (
        <Node key={a.id} agent={a} reports={reports} root />
      ))}
    </ul>
  );
}
