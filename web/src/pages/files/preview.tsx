// One file: its facts, the image itself or the extracted text, download and delete. The extraction runs in the
// background, so a pending file is asked again every two seconds until its text is there.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, ok } from '../../api/client';
import { Confirm } from '../../ui/dialog';
import { Facts } from '../../ui/facts';
import { bytes, when } from '../../ui/format';
import { Badge, Button, Card, ErrorNote, Loading, Pre, type Tone } from '../../ui/kit';
import { fetchBlob, saveFile } from './api';

const EXTRACTION_TONE: Record<string, Tone> = { done: 'green', pending: 'blue', failed: 'red', skipped: 'gray' };
export const extractionBadge = (status: string) => <Badge tone={EXTRACTION_TONE[status] ?? 'gray'}>{status === 'done' ? 'text extracted' : status}</Badge>;

function ImagePreview({ id, name }: { id: string; name: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let made: string | null = null;
    fetchBlob(id)
      .then((blob) => {
        made = URL.createObjectURL(blob);
        setUrl(made);
      })
      .catch(setError);
    return () => {
      if (made) URL.revokeObjectURL(made);
    };
  }, [id]);
  if (error) return <ErrorNote error={error} />;
  return url ? <img src={url} alt={name} className="max-h-80 rounded border border-zinc-200 dark:border-zinc-800" /> : <Loading label="Loading image…" />;
}

export function FilePreview({ id, onDeleted }: { id: string; onDeleted: () => void }) {
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const file = useQuery({
    queryKey: ['files', 'get', id],
    queryFn: () => ok(api.GET('/api/v1/files/{id}', { params: { path: { id } } })),
    refetchInterval: (q) => (q.state.data?.extraction_status === 'pending' ? 2000 : false),
  });
  // Once the text is extracted, the list's status column follows.
  const status = file.data?.extraction_status;
  useEffect(() => {
    if (status && status !== 'pending') qc.invalidateQueries({ queryKey: ['files', 'list'] });
  }, [status, qc]);
  const download = useMutation({ mutationFn: () => saveFile(id, file.data?.name ?? 'file') });
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE('/api/v1/files/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      setConfirming(false);
      qc.invalidateQueries({ queryKey: ['files'] });
      onDeleted();
    },
  });
  if (file.isPending) return <Card title="Preview"><Loading /></Card>;
  if (file.error) return <Card title="Preview"><ErrorNote error={file.error} /></Card>;
  const f = file.data;
  return (
    <Card
      title={f.name}
      actions={
        <div className="flex gap-2">
          <Button variant="secondary" onClick={() => download.mutate()} disabled={download.isPending}>
            Download
          </Button>
          <Button variant="danger" onClick={() => setConfirming(true)}>
            Delete
          </Button>
        </div>
      }
    >
      <Facts
        rows={[
          ['Path', <code key="p">{f.path}</code>],
          ['Type', f.type],
          ['Size', bytes(f.size)],
          ['Version', String(f.version)],
          ['Category', f.category ?? '—'],
          ['Text', extractionBadge(f.extraction_status)],
          ['Updated', when(f.updated_at)],
        ]}
      />
      {(download.error || remove.error) && <ErrorNote error={download.error ?? remove.error} />}
      <div className="mt-4">
        {f.type.startsWith('image/') && f.type !== 'image/svg+xml' ? (
          <ImagePreview id={f.id} name={f.name} />
        ) : f.text_content ? (
          <>
            <h3 className="mb-1 text-sm font-semibold">Extracted text</h3>
            <Pre className="max-h-96 whitespace-pre-wrap">{f.text_content}</Pre>
          </>
        ) : (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            {f.extraction_status === 'pending' ? 'Extracting the text…' : f.extraction_error ? `No text: ${f.extraction_error}` : 'No text in this file.'}
          </p>
        )}
      </div>
      <Confirm
        open={confirming}
        onOpenChange={setConfirming}
        title={`Delete ${f.name}?`}
        description="The file and its text leave search; its bytes go once no other file holds them."
        confirmLabel="Delete"
        danger
        busy={remove.isPending}
        onConfirm={() => remove.mutate()}
      />
    </Card>
  );
}
