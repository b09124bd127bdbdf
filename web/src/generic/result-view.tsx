// An operation's output: a list as a table with its CLI columns (the same columns `opsbase <command>` prints),
// one object as a detail view.
import type { OperationInfo } from '../api/spec';
import { cell } from '../ui/format';
import { Button, Card, Pre } from '../ui/kit';
import { Table } from '../ui/table';

export function ResultView({ op, outcome, onMore, busy }: { op: OperationInfo; outcome: { value: unknown; rows?: unknown[] }; onMore?: () => void; busy: boolean }) {
  if (op.isList && outcome.rows) {
    const rows = outcome.rows as Record<string, unknown>[];
    const keys = op.hints.cli.columns ?? Object.keys(rows[0] ?? {}).slice(0, 7);
    return (
      <div className="space-y-3">
        <Table rows={rows} columns={keys.map((k) => ({ key: k }))} caption={`${op.id} results`} />
        {onMore && (
          <Button variant="secondary" onClick={onMore} disabled={busy}>
            Load more
          </Button>
        )}
      </div>
    );
  }
  return (
    <Card title="Result">
      <Detail value={outcome.value} />
    </Card>
  );
}

export function Detail({ value }: { value: unknown }) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return <Pre className="whitespace-pre-wrap text-sm">{JSON.stringify(value, null, 2)}</Pre>;
  }
  return (
    <dl className="grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-[12rem_1fr]">
      {Object.entries(value as Record<string, unknown>).map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="font-medium text-zinc-600 dark:text-zinc-400">{k}</dt>
          <dd className="min-w-0 break-words">
            {v !== null && typeof v === 'object' ? <Pre className="whitespace-pre-wrap text-xs">{JSON.stringify(v, null, 2)}</Pre> : cell(v)}
          </dd>
        </div>
      ))}
    </dl>
  );
}
