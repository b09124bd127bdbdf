// One agent (/agents/:id, by id or name): status and actions, this month's spend against its caps, its settings,
// and the rules that cover it (rules and templates themselves are managed on their generic pages).
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api, ok } from '../../api/client';
import { Facts } from '../../ui/facts';
import { when } from '../../ui/format';
import { Badge, Card, ErrorNote, Loading, PageHeader } from '../../ui/kit';
import { AgentActions } from './agent-actions';
import { type Agent, agentLabel, agentTone } from './api';
import { BudgetBars } from './budget';
import { AgentSettings } from './settings';

function Rules({ agent }: { agent: Agent }) {
  const rules = useQuery({
    queryKey: ['agents', agent.id, 'rules'],
    queryFn: () => ok(api.GET('/api/v1/rules', { params: { query: { agent: agent.id, limit: 50 } } })),
  });
  return (
    <Card
      title="Rules it follows"
      actions={
        <Link to="/ops/rules.list?run=1" className="text-sm underline">
          All rules
        </Link>
      }
    >
      {rules.isPending ? (
        <Loading />
      ) : rules.error ? (
        <ErrorNote error={rules.error} />
      ) : rules.data.data.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">No rules cover it.</p>
      ) : (
        <ul className="space-y-2 text-sm">
          {rules.data.data.map((r) => (
            <li key={r.id} className="flex items-start gap-2">
              <Badge tone={r.enabled ? 'green' : 'gray'}>{r.scope === 'all' ? 'org-wide' : 'its own'}</Badge>
              <span className={r.enabled ? '' : 'line-through'}>{r.text}</span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

export default function AgentDetail() {
  const id = useParams().id!;
  const agent = useQuery({ queryKey: ['agents', 'one', id], queryFn: () => ok(api.GET('/api/v1/agents/{id}', { params: { path: { id } } })) });
  if (agent.isPending) return <Loading />;
  if (agent.error) return <ErrorNote error={agent.error} />;
  const a = agent.data;
  const facts: [string, string][] = [
    ['Name', a.name],
    ['Runtime', a.runtime],
    ['Model', a.model ?? 'default'],
    ['Template', a.template_id ?? 'none'],
    ['Own provider key', a.has_provider_api_key ? 'yes' : 'no'],
    ['Identity (key)', a.key_id ?? '—'],
    ['Scopes', a.scopes.join(', ') || '—'],
    ['Runs this month', String(a.runs_this_month)],
    ['Last heartbeat', a.last_heartbeat_at ? when(a.last_heartbeat_at) : 'never'],
  ];
  return (
    <>
      <PageHeader
        title={agentLabel(a)}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <Badge tone={agentTone(a.status)}>{a.status}</Badge>
            {a.role && <span>{a.role}</span>}
            {a.status_reason && <span>· {a.status_reason}</span>}
          </span>
        }
        actions={<AgentActions agent={a} />}
      />
      <div className="mb-4 grid gap-4 lg:grid-cols-3">
        <Card title="Agent">
          <Facts rows={facts} />
        </Card>
        <Card title="Budget this month">
          <BudgetBars agent={a} />
        </Card>
        <Rules agent={a} />
      </div>
      <AgentSettings agent={a} />
      <p className="mt-6 flex flex-wrap gap-4 text-sm">
        <Link to="/agents" className="underline">
          All agents
        </Link>
        <Link to="/agents?view=chart" className="underline">
          Org chart
        </Link>
        <Link to="/ops/templates.list?run=1" className="underline">
          Templates
        </Link>
        <Link to="/ops/agents.update" className="underline">
          Generic page
        </Link>
      </p>
    </>
  );
}
