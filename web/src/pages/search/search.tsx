// Search everything the org has: one box, results grouped by type (tasks, agents, documents, files, records), each
// group with its best hits and how many matched ("1,000+" past the server's cap). The query is in the address
// (/search?q=…) so a search can be linked and the palette can open it.
import { Link, useSearchParams } from 'react-router';
import { useDebounced } from '../../ui/debounce';
import { Badge, Card, ErrorNote, Muted, PageHeader } from '../../ui/kit';
import { KIND_LABEL, type SearchGroup, type SearchKind, useGlobalSearch } from './api';

const decode = (text: string) => text.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));

/**
 * The server sends the snippet escaped, with the matches in <mark>…</mark> (search/postgres-fts.ts): it is split into
 * text and marks here and never inserted as HTML.
 */
export function Snippet({ html }: { html: string | null }) {
  if (!html) return null;
  const parts = html.split(/<mark>(.*?)<\/mark>/g);
  return (
    <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
      {parts.map((part, i) =>
        i % 2 ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts never move
          <mark key={i} className="rounded bg-amber-200 px-0.5 text-zinc-900">
            {decode(part)}
          </mark>
        ) : (
          decode(part)
        ),
      )}
    </p>
  );
}

function Group({ group, q, expanded }: { group: SearchGroup; q: string; expanded: boolean }) {
  const more = group.total.value > group.hits.length;
  return (
    <Card
      title={
        <span className="flex items-center gap-2">
          {KIND_LABEL[group.kind]} <Badge>{group.total.label}</Badge>
        </span>
      }
      actions={
        more && !expanded ? (
          <Link className="text-sm text-indigo-700 underline dark:text-indigo-300" to={`/search?q=${encodeURIComponent(q)}&type=${group.kind}`}>
            All {KIND_LABEL[group.kind].toLowerCase()}
          </Link>
        ) : undefined
      }
    >
      {
        <ul className="divide-y divide-zinc-200 dark:divide-zinc-800" data-group={group.kind}>
          {group.hits.map((h) => (
            <li key={h.id} className="py-2">
              <Link to={h.path} className="font-medium text-indigo-700 hover:underline dark:text-indigo-300">
                {h.title}
              </Link>
              <WhereLine meta={h.meta} />
              <Snippet html={h.snippet} />
            </li>
          ))}
        </ul>
      }
    </Card>
  );
}

/** The types with no hit, in one line rather than a card each. */
function NothingIn({ groups }: { groups: SearchGroup[] }) {
  if (!groups.length) return null;
  const names = groups.map((g) => KIND_LABEL[g.kind].toLowerCase());
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names[0];
  return <Muted>No {list} match.</Muted>;
}

/** Where a hit is: a folder, a path, a record's type and product, a task's status. */
function WhereLine({ meta }: { meta: Record<string, unknown> }) {
  const parts = ['folder', 'path', 'record_type', 'source_product', 'status', 'role']
    .map((k) => meta[k])
    .filter((v): v is string | number => typeof v === 'string' || typeof v === 'number');
  return parts.length ? <span className="ml-2 text-xs text-zinc-600 dark:text-zinc-400">{parts.join(' · ')}</span> : null;
}

export default function Search() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const type = (params.get('type') as SearchKind | null) ?? undefined;
  const settled = useDebounced(q, 250);
  const results = useGlobalSearch(settled, { types: type, limit: type ? 50 : 5 });
  const set = (next: string) => setParams(() => (next ? { q: next, ...(type ? { type } : {}) } : {}), { replace: true });
  return (
    <>
      <PageHeader
        title="Search"
        description="Tasks, agents, documents, files and records — whole words, the start of a word, or part of a URL or code."
      />
      <search className="mb-6 flex gap-2">
        <label htmlFor="global-search" className="sr-only">
          Search the org
        </label>
        <input
          id="global-search"
          type="search"
          value={q}
          onChange={(e) => set(e.target.value)}
          placeholder="refund policy, INV-2024, acme.example/pricing…"
          className="w-full rounded-md border border-zinc-300 bg-white px-3 py-2 dark:border-zinc-700 dark:bg-zinc-900"
        />
        {type && (
          <Link
            className="self-center whitespace-nowrap text-sm text-indigo-700 underline dark:text-indigo-300"
            to={`/search?q=${encodeURIComponent(q)}`}
          >
            Every type
          </Link>
        )}
      </search>
      <ErrorNote error={results.error} />
      {settled.trim().length < 2 ? (
        <Muted>Type at least two characters.</Muted>
      ) : (
        <div className="grid gap-4" aria-busy={results.isFetching} data-testid="search-results">
          {results.data?.groups
            .filter((g) => g.hits.length > 0)
            .map((g) => (
              <Group key={g.kind} group={g} q={settled} expanded={Boolean(type)} />
            ))}
          <NothingIn groups={(results.data?.groups ?? []).filter((g) => g.hits.length === 0)} />
        </div>
      )}
    </>
  );
}
