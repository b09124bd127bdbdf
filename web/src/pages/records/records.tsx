// Workspace records: what other products published into the org (deals, invoices, tickets), filtered by type,
// product and status; one record's content, data and revisions beside the list.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ok } from '../../api/client';
import type { Schemas } from '../../app/session';
import { TextInput } from '../../ui/field';
import { Facts } from '../../ui/facts';
import { when } from '../../ui/format';
import { Badge, Card, ErrorNote, Loading, PageHeader, Pre, toneOf } from '../../ui/kit';
import { useDebounced } from '../../ui/debounce';
import { PagedTable, usePaged } from '../../ui/table';

type RecordRow = Schemas['WorkspaceRecord'];

function RecordDetail({ id }: { id: string }) {
  const record = useQuery({ queryKey: ['records', 'get', id], queryFn: () => ok(api.GET('/api/v1/records/{id}', { params: { path: { id } } })) });
  const revisions = useQuery({
    queryKey: ['records', 'revisions', id],
    queryFn: () => ok(api.GET('/api/v1/records/{id}/revisions', { params: { path: { id } } })),
  });
  if (record.isPending) return <Card title="Record"><Loading /></Card>;
  if (record.error) return <Card title="Record"><ErrorNote error={record.error} /></Card>;
  const r = record.data;
  return (
    <Card title={r.title}>
      <Facts
        rows={[
          ['Product', r.source_product],
          ['Type', r.record_type],
          ['Reference', <code key="ref">{r.source_ref}</code>],
          ['Status', <Badge key="s" tone={toneOf(r.status)}>{r.status}</Badge>],
          ['Subtitle', r.subtitle ?? '—'],
          [
            'Open in product',
            r.app_href && /^https?:\/\//.test(r.app_href) ? (
              <a key="href" href={r.app_href} className="text-indigo-700 underline dark:text-indigo-300" rel="noreferrer noopener" target="_blank">
                {r.app_href}
              </a>
            ) : (
              (r.app_href ?? '—')
            ),
          ],
          ['Tags', r.tags.length ? r.tags.join(', ') : '—'],
          ['Revision', String(r.revision)],
          ['Updated', when(r.updated_at)],
        ]}
      />
      {r.summary_text && <p className="mt-3 whitespace-pre-wrap text-sm">{r.summary_text}</p>}
      {Object.keys(r.meta).length > 0 && (
        <>
          <h3 className="mt-4 mb-1 text-sm font-semibold">Data</h3>
          <Pre>{JSON.stringify(r.meta, null, 2)}</Pre>
        </>
      )}
      <h3 className="mt-4 mb-1 text-sm font-semibold">Revisions</h3>
      {revisions.error ? (
        <ErrorNote error={revisions.error} />
      ) : (
        <ol className="space-y-1 text-sm">
          {(revisions.data?.data ?? []).map((v) => (
            <li key={v.revision}>
              <span className="font-medium">#{v.revision}</span> {v.title} · {v.status} · <span className="text-zinc-600 dark:text-zinc-400">{when(v.created_at)}</span>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}

export default function Records() {
  const [selected, setSelected] = useState<string | null>(null);
  const [type, setType] = useState('');
  const [product, setProduct] = useState('');
  const [status, setStatus] = useState('');
  const f = { record_type: useDebounced(type.trim()), source_product: useDebounced(product.trim()), status: useDebounced(status.trim()) };
  const list = usePaged<RecordRow>(['records', 'list', f], (cursor) =>
    ok(
      api.GET('/api/v1/records', {
        params: { query: { cursor, limit: 50, ...Object.fromEntries(Object.entries(f).filter(([, v]) => v)) } },
      }),
    ),
  );
  return (
    <>
      <PageHeader title="Records" description="Deals, invoices, tickets and more that other products publish into this organization." />
      <div className="mb-4 grid gap-3 sm:grid-cols-3">
        <TextInput label="Record type" placeholder="deal" value={type} onChange={(e) => setType(e.target.value)} />
        <TextInput label="Product" placeholder="crm" value={product} onChange={(e) => setProduct(e.target.value)} />
        <TextInput label="Status" placeholder="active" value={status} onChange={(e) => setStatus(e.target.value)} />
      </div>
      <div className="grid gap-6 xl:grid-cols-[3fr_2fr]">
        <PagedTable
          query={list}
          caption="Workspace records"
          columns={[
            {
              key: 'title',
              render: (r) => (
                <button type="button" className="font-medium text-indigo-700 underline dark:text-indigo-300" aria-pressed={selected === r.id} onClick={() => setSelected(r.id)}>
                  {r.title}
                </button>
              ),
            },
            { key: 'record_type', label: 'type' },
            { key: 'source_product', label: 'product' },
            { key: 'status', render: (r) => <Badge tone={toneOf(r.status)}>{r.status}</Badge> },
            { key: 'updated_at', label: 'updated', render: (r) => when(r.updated_at) },
          ]}
        />
        {selected ? <RecordDetail id={selected} /> : <Card title="Record">Choose a record to see its content and revisions.</Card>}
      </div>
    </>
  );
}
