// Revision history: every revision (newest first) and the line diff between any two, chosen with two selects
// (the previous revision against the latest by default). Added and removed lines carry a + or − as well as a colour.
import { type ReactNode, useState } from 'react';
import { when } from '../../ui/format';
import { SelectInput } from '../../ui/field';
import { ErrorNote, Loading } from '../../ui/kit';
import { Table } from '../../ui/table';
import { type Doc, type RevisionDetail, useRevisionDiff, useRevisions } from './api';

const lineClass = {
  same: '',
  added: 'bg-green-100 text-green-950 dark:bg-green-950 dark:text-green-100',
  removed: 'bg-red-100 text-red-950 dark:bg-red-950 dark:text-red-100',
};
const sign = { same: ' ', added: '+', removed: '−' };

/** A scrollable box keyboard users can scroll too (WCAG 2.1.1), like the kit's Pre. */
function ScrollBox({ label, children }: { label: string; children: ReactNode }) {
  return (
    <section
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (axe scrollable-region-focusable).
      tabIndex={0}
      aria-label={label}
      className="max-h-[32rem] overflow-auto rounded-md border border-zinc-200 font-mono text-xs dark:border-zinc-800"
    >
      {children}
    </section>
  );
}

function DiffView({ diff }: { diff: NonNullable<RevisionDetail['diff']> }) {
  return (
    <div className="space-y-2">
      <p className="text-sm">
        Revision {diff.from} → {diff.to}: <span className="font-medium">{diff.added} added</span>,{' '}
        <span className="font-medium">{diff.removed} removed</span>
        {diff.title_changed && <> · title was “{diff.from_title}”</>}
      </p>
      <ScrollBox label={`Changes from revision ${diff.from} to ${diff.to}`}>
        {diff.lines.length === 0 && <p className="p-2 text-zinc-600 dark:text-zinc-400">No change in the text.</p>}
        {diff.lines.map((l) => (
          <div key={`${l.old_line ?? ''}-${l.new_line ?? ''}`} className={`flex whitespace-pre-wrap ${lineClass[l.type]}`} data-diff={l.type}>
            <span aria-hidden="true" className="w-10 shrink-0 select-none px-1 text-right opacity-70">
              {l.new_line ?? l.old_line}
            </span>
            <span className="w-4 shrink-0 select-none">{sign[l.type]}</span>
            <span className="min-w-0 break-words">{l.text || ' '}</span>
          </div>
        ))}
      </ScrollBox>
    </div>
  );
}

function Compare({ doc, from, to }: { doc: Doc; from: number; to: number }) {
  const q = useRevisionDiff(doc.id, to, from);
  if (q.isPending) return <Loading />;
  if (q.error) return <ErrorNote error={q.error} />;
  return q.data.diff ? <DiffView diff={q.data.diff} /> : null;
}

export function History({ doc }: { doc: Doc }) {
  const revisions = useRevisions(doc.id);
  const [to, setTo] = useState(doc.revision);
  const [from, setFrom] = useState(Math.max(1, doc.revision - 1));
  if (revisions.isPending) return <Loading />;
  if (revisions.error) return <ErrorNote error={revisions.error} />;
  const options = revisions.rows.map((r) => ({ value: String(r.number), label: `${r.number} — ${when(r.created_at)}` }));
  return (
    <div className="space-y-4">
      <Table
        rows={revisions.rows}
        caption="Revisions"
        columns={[
          { key: 'number', label: '#', render: (r) => r.number },
          { key: 'title' },
          { key: 'lines' },
          { key: 'created_by', label: 'by', render: (r) => r.created_by.type },
          { key: 'created_at', label: 'when', render: (r) => when(r.created_at) },
        ]}
      />
      {doc.revision > 1 ? (
        <>
          <div className="grid max-w-md grid-cols-2 gap-3">
            <SelectInput label="Compare revision" value={String(from)} onChange={(e) => setFrom(Number(e.target.value))} options={options} />
            <SelectInput label="with revision" value={String(to)} onChange={(e) => setTo(Number(e.target.value))} options={options} />
          </div>
          <Compare doc={doc} from={from} to={to} />
        </>
      ) : (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">One revision so far: edit the text to make the next.</p>
      )}
    </div>
  );
}
