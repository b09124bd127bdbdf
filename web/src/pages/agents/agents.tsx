// Agents: cards with status, runtime, model, budget bars, last heartbeat and start / stop / restart; or the org
// chart from `reports_to` (?view=chart); the create dialog; links to templates and rules (generic pages).
import { Link, useSearchParams } from 'react-router';
import { when } from '../../ui/format';
import { Badge, ErrorNote, Loading, PageHeader } from '../../ui/kit';
import { ViewTabs } from '../../ui/view-tabs';
import { AgentActions } from './agent-actions';
import { type Agent, agentLabel, agentTone, useAgents } from './api';
import { BudgetBars } from './budget';
import { CreateAgent } from './create-agent';
import { OrgChart } from './org-chart';

function AgentCard({ agent }: { agent: Agent }) {
  return (
    <li className="flex flex-col gap-3 rounded-lg border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900" style={{ borderTopColor: agent.color ?? undefined, borderTopWidth: agent.color ? 3 : undefined }}>
      <div className="flex items-start justify-between gap-2">
        <div className="min-w-0">
          <h2 className="truncate font-semibold">
            <Link to={`/agents/${agent.name}`} className="underline">
              {agentLabel(agent)}
            </Link>
          </h2>
          <p className="truncate text-xs text-zinc-600 dark:text-zinc-400">
            {agent.name}
            {agent.role ? ` · ${agent.role}` : ''}
          </p>
        </div>
        <Badge tone={agentTone(agent.status)}>{agent.status}</Badge>
      </div>
      <dl className="grid grid-cols-2 gap-x-3 gap-y-1 text-xs">
        <dt className="text-zinc-600 dark:text-zinc-400">Runtime</dt>
        <dd>{agent.runtime}</dd>
        <dt className="text-zinc-600 dark:text-zinc-400">Model</dt>
        <dd className="truncate">{agent.model ?? 'default'}</dd>
        <dt className="text-zinc-600 dark:text-zinc-400">Runs this month</dt>
        <dd>{agent.runs_this_month}</dd>
        <dt className="text-zinc-600 dark:text-zinc-400">Last heartbeat</dt>
        <dd>{agent.last_heartbeat_at ? when(agent.last_heartbeat_at) : 'never'}</dd>
      </dl>
      <BudgetBars agent={agent} />
      <AgentActions agent={agent} />
    </li>
  );
}

export default function Agents() {
  const [params] = useSearchParams();
  const chart = params.get('view') === 'chart';
  const agents = useAgents();
  return (
    <>
      <PageHeader
        title="Agents"
        description={
          <>
            The org's AI workforce: who reports to whom, what they may spend. Agents start from{' '}
            <Link to="/ops/templates.list?run=1" className="underline">
              templates
            </Link>{' '}
            and follow{' '}
            <Link to="/ops/rules.list?run=1" className="underline">
              rules
            </Link>
            .
          </>
        }
        actions={
          <>
            <ViewTabs
              label="Agent views"
              current={chart ? 'chart' : 'cards'}
              views={[
                { id: 'cards', to: '/agents', label: 'Cards' },
                { id: 'chart', to: '/agents?view=chart', label: 'Org chart' },
              ]}
            />
            <CreateAgent />
          </>
        }
      />
      {agents.isPending ? (
        <Loading />
      ) : agents.error ? (
        <ErrorNote error={agents.error} />
      ) : chart ? (
        <OrgChart agents={agents.data.data} />
      ) : agents.data.data.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">No agents yet: create one to give tasks to.</p>
      ) : (
        <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          {agents.data.data.map((a) => (
            <AgentCard key={a.id} agent={a} />
          ))}
        </ul>
      )}
      {agents.data?.meta.has_more && <p className="mt-3 text-sm text-zinc-600 dark:text-zinc-400">Showing the newest 200 agents.</p>}
    </>
  );
}
