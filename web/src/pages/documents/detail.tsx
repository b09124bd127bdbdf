// One document (/documents/:id): its facts and summary, the editor with live preview (?view=write, the default) or
// its revision history with diffs (?view=history), and delete.
import { useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { api, ok } from '../../api/client';
import { Confirm } from '../../ui/dialog';
import { Facts } from '../../ui/facts';
import { when } from '../../ui/format';
import { Badge, BackLink, Button, Card, ErrorNote, Loading, PageHeader } from '../../ui/kit';
import { ViewTabs } from '../../ui/view-tabs';
import { type Doc, useDocsMutation, useDocument } from './api';
import { Editor } from './editor';
import { History } from './history';

function DocFacts({ doc }: { doc: Doc }) {
  return (
    <Facts
      rows={[
        [
          'Folder',
          doc.folder_id ? (
            <Link key="folder" to={`/documents?folder=${doc.folder_id}`} className="underline">
              {doc.folder_path}
            </Link>
          ) : (
            'not in a folder'
          ),
        ],
        ['Kind', doc.kind],
        ['Tags', doc.tags.join(', ') || '—'],
        ['Revision', doc.revision],
        [
          'Summary',
          doc.summary ? (
            <span key="summary">
              {doc.summary} {doc.summary_source === 'ai' && <Badge tone="blue">drafted by AI</Badge>}
            </span>
          ) : (
            'being drafted…'
          ),
        ],
        ['Created', `${when(doc.created_at)} by ${doc.created_by.type}`],
        ['Updated', `${when(doc.updated_at)} by ${doc.updated_by.type}`],
      ]}
    />
  );
}

export default function DocumentPage() {
  const id = useParams().id!;
  const [params] = useSearchParams();
  const view = params.get('view') === 'history' ? 'history' : 'write';
  const navigate = useNavigate();
  const [deleting, setDeleting] = useState(false);
  const doc = useDocument(id);
  const back = (d?: { folder_id: string | null }) => (d?.folder_id ? `/documents?folder=${d.folder_id}` : '/documents');
  const remove = useDocsMutation(
    () => ok(api.DELETE('/api/v1/documents/{id}', { params: { path: { id } } })),
    () => navigate(back(doc.data), { replace: true }),
  );
  if (doc.isPending) return <Loading />;
  if (doc.error) return <ErrorNote error={doc.error} />;
  const d = doc.data;
  return (
    <>
      <PageHeader
        title={d.title}
        description={<code className="text-xs">{d.id}</code>}
        actions={
          <Button variant="ghost" onClick={() => setDeleting(true)}>
            Delete
          </Button>
        }
      />
      <div className="space-y-4">
        <Card>
          <DocFacts doc={d} />
        </Card>
        <ViewTabs
          label="Document views"
          current={view}
          views={[
            { id: 'write', label: 'Write', to: `/documents/${id}` },
            { id: 'history', label: `History (${d.revision})`, to: `/documents/${id}?view=history` },
          ]}
        />
        {/* Keyed by revision: a save that made a new revision starts the editor and the history from it. */}
        {view === 'write' ? <Editor key={d.id} doc={d} /> : <History key={d.revision} doc={d} />}
      </div>
      <BackLink to={back(d)}>All documents</BackLink>
      <Confirm
        open={deleting}
        onOpenChange={setDeleting}
        title={`Delete “${d.title}”?`}
        description="The document and all its revisions are deleted; this cannot be undone."
        confirmLabel="Delete"
        danger
        busy={remove.isPending}
        onConfirm={() => remove.mutate(undefined)}
      />
      {remove.error && <ErrorNote error={remove.error} />}
    </>
  );
}
