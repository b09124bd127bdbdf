// Documents (/documents?folder=…): the folder tree beside the documents of the folder chosen (all of them by default),
// with the folder's actions (new folder inside it, rename, delete) and a new document created there.
import { Link, useSearchParams } from 'react-router';
import { when } from '../../ui/format';
import { Badge, Card, ErrorNote, Loading, PageHeader } from '../../ui/kit';
import { PagedTable } from '../../ui/table';
import { type DocumentItem, type Place, useDocuments, useFolders } from './api';
import { CreateDocument } from './create-document';
import { DeleteFolder, NewFolder, RenameFolder } from './folder-actions';
import { FolderTree } from './folder-tree';

export default function DocumentsPage() {
  const [params] = useSearchParams();
  const place: Place = params.get('folder') || 'all';
  const folders = useFolders();
  const docs = useDocuments(place);
  const all = folders.data?.data ?? [];
  const folder = all.find((f) => f.id === place) ?? null;
  const heading = place === 'all' ? 'All documents' : place === 'root' ? 'Not in a folder' : (folder?.path ?? 'Folder');
  return (
    <>
      <PageHeader
        title="Documents"
        description="Policies, specs and notes of the org, in folders; every edit of the text is kept as a revision."
        actions={<CreateDocument folder={folder} />}
      />
      <div className="grid gap-4 md:grid-cols-[16rem_1fr]">
        <Card title="Folders" actions={<NewFolder parent={folder} />}>
          {folders.isPending ? <Loading /> : folders.error ? <ErrorNote error={folders.error} /> : <FolderTree folders={all} place={place} />}
        </Card>
        <section aria-labelledby="docs-heading" className="min-w-0 space-y-3">
          <div className="flex flex-wrap items-center justify-between gap-2">
            <h2 id="docs-heading" className="text-lg font-semibold">
              {heading}
            </h2>
            {folder && (
              <div className="flex gap-2">
                <RenameFolder folder={folder} />
                <DeleteFolder folder={folder} />
              </div>
            )}
          </div>
          <PagedTable<DocumentItem>
            query={docs}
            caption={heading}
            autoLoad
            columns={[
              {
                key: 'title',
                render: (d) => (
                  <Link to={`/documents/${d.id}`} className="font-medium text-indigo-700 underline dark:text-indigo-300">
                    {d.title}
                  </Link>
                ),
              },
              { key: 'kind', render: (d) => <Badge>{d.kind}</Badge> },
              ...(place === 'all' ? [{ key: 'folder_path', label: 'folder', render: (d: DocumentItem) => d.folder_path ?? '—' }] : []),
              { key: 'tags', render: (d) => d.tags.join(', ') || '—' },
              { key: 'revision', render: (d) => `r${d.revision}` },
              { key: 'updated_at', label: 'updated', render: (d) => when(d.updated_at) },
            ]}
          />
        </section>
      </div>
    </>
  );
}
