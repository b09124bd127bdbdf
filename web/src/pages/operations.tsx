// Every operation of the registry, by area: the designed page where one exists, and always the generic page.
import { useState } from 'react';
import { Link } from 'react-router';
import { useOperations } from '../api/spec';
import { designedPageFor } from '../app/nav';
import { controlClass } from '../ui/field';
import { Badge, ErrorNote, Loading, PageHeader } from '../ui/kit';

export default function Operations() {
  const ops = useOperations();
  const [filter, setFilter] = useState('');
  if (ops.isPending) return <Loading />;
  if (ops.error) return <ErrorNote error={ops.error} />;
  const shown = ops.data.filter((o) => `${o.id} ${o.summary}`.toLowerCase().includes(filter.toLowerCase()));
  const tags = [...new Set(shown.map((o) => o.tag))];
  return (
    <>
      <PageHeader title="All operations" description={`${ops.data.length} operations: each has a page here, a CLI command and an MCP tool.`} />
      <input className={`${controlClass} mb-6 max-w-sm`} aria-label="Filter operations" placeholder="Filter…" value={filter} onChange={(e) => setFilter(e.target.value)} />
      <div className="space-y-6">
        {tags.map((tag) => (
          <section key={tag}>
            <h2 className="mb-2 text-sm font-semibold uppercase tracking-wide text-zinc-600 dark:text-zinc-400">{tag}</h2>
            <ul className="divide-y divide-zinc-200 rounded-lg border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800">
              {shown
                .filter((o) => o.tag === tag)
                .map((o) => {
                  const designed = designedPageFor(o.id);
                  return (
                    <li key={o.id} className="flex flex-wrap items-center gap-3 px-3 py-2 text-sm">
                      <Link to={`/ops/${o.id}`} className="font-mono font-medium text-indigo-700 underline-offset-2 hover:underline dark:text-indigo-300">
                        {o.id}
                      </Link>
                      <span className="text-zinc-700 dark:text-zinc-300">{o.summary}</span>
                      <span className="ml-auto flex gap-2">
                        {o.hints.cost > 0 && <Badge tone="amber">{o.hints.cost} credits</Badge>}
                        {designed && (
                          <Link to={designed.path} className="text-xs underline">
                            {designed.label} page
                          </Link>
                        )}
                      </span>
                    </li>
                  );
                })}
            </ul>
          </section>
        ))}
      </div>
    </>
  );
}
