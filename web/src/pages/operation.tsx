// The generic page every operation has (/ops/<id>), derived from its OpenAPI contract: inputs as a form generated
// from the JSON Schema (server validation messages beside the fields), lists as tables with the operation's CLI
// columns, single objects as a detail view. Paid and destructive operations ask first, paid ones showing the cost.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { ApiError, call } from '../api/client';
import { type OperationInfo, useOperations } from '../api/spec';
import { designedPageFor } from '../app/nav';
import { SchemaForm, type FieldSpec, type Values, convert, fieldsOf } from '../generic/schema-form';
import { ResultView } from '../generic/result-view';
import { Confirm } from '../ui/dialog';
import { Badge, Button, Card, ErrorNote, Loading, PageHeader } from '../ui/kit';

interface Outcome {
  value: unknown;
  /** The pages of a list so far (load more appends). */
  rows?: unknown[];
  next?: string | null;
}

function request(op: OperationInfo, fields: FieldSpec[], values: Values, cursor?: string) {
  let path = op.path;
  const query: Record<string, string> = {};
  const body: Record<string, unknown> = {};
  for (const f of fields) {
    const v = convert(f, values[f.name] ?? '');
    if (f.in === 'path') path = path.replace(`{${f.name}}`, encodeURIComponent(String(values[f.name] ?? '')));
    else if (v !== undefined && f.in === 'query') query[f.name] = typeof v === 'string' ? v : JSON.stringify(v).replace(/^"|"$/g, '');
    else if (v !== undefined) body[f.name] = v;
  }
  if (cursor) query.cursor = cursor;
  return call(op.method, path, { query, body: op.body ? body : undefined });
}

export default function OperationPage() {
  const { opId } = useParams();
  const [search] = useSearchParams();
  const ops = useOperations();
  const op = ops.data?.find((o) => o.id === opId);
  if (ops.isPending) return <Loading />;
  if (ops.error) return <ErrorNote error={ops.error} />;
  if (!op) return <PageHeader title="Unknown operation" description={`No operation \`${opId}\` on this server.`} />;
  return <OperationView key={op.id} op={op} autoRun={search.get('run') === '1'} />;
}

function OperationView({ op, autoRun }: { op: OperationInfo; autoRun: boolean }) {
  const fields = fieldsOf(op);
  const [values, setValues] = useState<Values>({});
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const designed = designedPageFor(op.id);
  const asks = op.hints.cost > 0 || op.hints.destructive;

  const run = async (cursor?: string) => {
    setBusy(true);
    setError(null);
    try {
      const value = await request(op, fields, values, cursor);
      if (op.isList) {
        const page = value as { data: unknown[]; meta?: { next_cursor: string | null; has_more: boolean } };
        setOutcome((prev) => ({ value, rows: [...(cursor ? (prev?.rows ?? []) : []), ...page.data], next: page.meta?.has_more ? page.meta.next_cursor : null }));
      } else setOutcome({ value });
    } catch (err) {
      setError(err);
      setOutcome(null);
    } finally {
      setBusy(false);
    }
  };

  // Reads that need no input run at once: the first page renders from one request.
  const ran = useRef(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs once per mounted operation.
  useEffect(() => {
    if (ran.current) return;
    ran.current = true;
    if (op.method === 'GET' && (autoRun || !fields.some((f) => f.required))) run();
  }, []);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (asks) setConfirming(true);
    else run();
  };
  const errorFor = (f: FieldSpec) => {
    if (!(error instanceof ApiError)) return undefined;
    return error.fieldErrors.find((d) => d.field === f.name || d.field.startsWith(`${f.name}.`))?.message;
  };
  const unplaced = error instanceof ApiError && error.fieldErrors.length > 0 && fields.some((f) => errorFor(f)) ? null : error;

  return (
    <>
      <PageHeader
        title={op.summary}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <code className="rounded bg-zinc-100 px-1.5 py-0.5 text-xs dark:bg-zinc-800">
              {op.method} {op.path}
            </code>
            <Badge>{op.id}</Badge>
            {op.hints.cost > 0 && <Badge tone="amber">costs {op.hints.cost} credits</Badge>}
            {op.hints.instance_admin && <Badge tone="blue">instance admin</Badge>}
          </span>
        }
      />
      {designed && (
        <p className="mb-4 text-sm">
          This operation also has a designed page:{' '}
          <Link className="font-medium text-indigo-700 underline dark:text-indigo-300" to={designed.path}>
            {designed.label}
          </Link>
        </p>
      )}
      {op.description && <p className="mb-4 text-sm text-zinc-700 dark:text-zinc-300">{op.description}</p>}
      <Card>
        <form onSubmit={onSubmit} noValidate className="space-y-4">
          {fields.length > 0 ? <SchemaForm fields={fields} values={values} onChange={setValues} errorFor={errorFor} /> : <p className="text-sm">No input.</p>}
          <div className="flex items-center gap-3">
            <Button type="submit" variant={op.hints.destructive ? 'danger' : 'primary'} disabled={busy}>
              {op.method === 'GET' ? 'Run' : op.hints.cost > 0 ? `Run (${op.hints.cost} credits)` : 'Submit'}
            </Button>
            {busy && <span className="text-sm text-zinc-600 dark:text-zinc-400" role="status">Working…</span>}
          </div>
        </form>
      </Card>
      <div className="mt-4 space-y-3" aria-live="polite">
        {unplaced ? <ErrorNote error={unplaced} /> : null}
        {outcome && <ResultView op={op} outcome={outcome} onMore={outcome.next ? () => run(outcome.next!) : undefined} busy={busy} />}
      </div>
      <Confirm
        open={confirming}
        onOpenChange={setConfirming}
        title={op.hints.cost > 0 ? `This costs ${op.hints.cost} credits` : 'Are you sure?'}
        description={
          op.hints.cost > 0
            ? `${op.summary}: ${op.hints.cost} credits are reserved now and charged when it succeeds (released if it fails).`
            : `${op.summary}. This cannot be undone.`
        }
        confirmLabel={op.hints.cost > 0 ? `Pay ${op.hints.cost} credits` : 'Yes, do it'}
        danger={op.hints.destructive}
        onConfirm={() => {
          setConfirming(false);
          run();
        }}
      />
    </>
  );
}
