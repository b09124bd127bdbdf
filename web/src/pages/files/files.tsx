// Files: upload (a path replaces the file there), filter or search by name and content, preview the extracted text or
// the image, download, delete.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok } from '../../api/client';
import type { Schemas } from '../../app/session';
import { SelectInput, TextInput, fieldError } from '../../ui/field';
import { bytes, when } from '../../ui/format';
import { Button, Card, ErrorNote, PageHeader } from '../../ui/kit';
import { useDebounced } from '../../ui/debounce';
import { PagedTable, usePaged } from '../../ui/table';
import { readAsBase64 } from './api';
import { extractionBadge, FilePreview } from './preview';

type FileRow = Schemas['File'];


function Upload({ onUploaded }: { onUploaded: (id: string) => void }) {
  const qc = useQueryClient();
  // A new key empties the file input after an upload (its value cannot be set).
  const [inputKey, setInputKey] = useState(0);
  const [chosen, setChosen] = useState<File | null>(null);
  const [path, setPath] = useState('');
  const [category, setCategory] = useState('');
  const upload = useMutation({
    mutationFn: async () => {
      if (!chosen) throw new Error('Choose a file first.');
      const content_base64 = await readAsBase64(chosen);
      return ok(
        api.POST('/api/v1/files', {
          body: { name: chosen.name, content_base64, ...(path.trim() ? { path: path.trim() } : {}), ...(category.trim() ? { category: category.trim() } : {}), ...(chosen.type ? { type: chosen.type } : {}) },
        }),
      );
    },
    onSuccess: (file) => {
      qc.invalidateQueries({ queryKey: ['files'] });
      setChosen(null);
      setPath('');
      setCategory('');
      setInputKey((k) => k + 1);
      onUploaded(file.id);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    upload.mutate();
  };
  return (
    <Card title="Upload a file" className="mb-6">
      <form className="grid gap-3 sm:grid-cols-[2fr_2fr_1fr_auto] sm:items-end" onSubmit={submit} noValidate>
        <TextInput key={inputKey} label="File" type="file" onChange={(e) => setChosen(e.target.files?.[0] ?? null)} error={fieldError(upload.error, 'content_base64')} />
        <TextInput label="Path (optional)" placeholder="contracts/acme.pdf" value={path} onChange={(e) => setPath(e.target.value)} error={fieldError(upload.error, 'path')} />
        <TextInput label="Category" placeholder="contract" value={category} onChange={(e) => setCategory(e.target.value)} error={fieldError(upload.error, 'category')} />
        <Button type="submit" disabled={!chosen || upload.isPending}>
          {upload.isPending ? 'Uploading…' : 'Upload'}
        </Button>
      </form>
      <p className="mt-2 text-xs text-zinc-600 dark:text-zinc-400">A file uploaded to a path that is taken replaces it. Text is extracted from PDF, Word, HTML and text files for search.</p>
      {upload.error && !fieldError(upload.error, 'content_base64') && !fieldError(upload.error, 'path') && <ErrorNote error={upload.error} />}
    </Card>
  );
}

export default function Files() {
  const [selected, setSelected] = useState<string | null>(null);
  const [q, setQ] = useState('');
  const [prefix, setPrefix] = useState('');
  const [type, setType] = useState('');
  const query = useDebounced(q.trim());
  const prefixQ = useDebounced(prefix.trim());
  const list = usePaged<FileRow & { rank?: number }>(['files', 'list', query, prefixQ, type], (cursor) =>
    query
      ? ok(api.GET('/api/v1/files/search', { params: { query: { q: query, limit: 50 } } }))
      : ok(api.GET('/api/v1/files', { params: { query: { cursor, limit: 50, ...(prefixQ ? { path_prefix: prefixQ } : {}), ...(type ? { type } : {}) } } })),
  );
  return (
    <>
      <PageHeader title="Files" description="Contracts, reports and images of the organization: their text is searchable." />
      <Upload onUploaded={setSelected} />
      <div className="mb-4 grid gap-3 sm:grid-cols-3">
        <TextInput label="Search names and content" type="search" placeholder="e.g. refund" value={q} onChange={(e) => setQ(e.target.value)} />
        <TextInput label="Path starts with" placeholder="contracts/" value={prefix} onChange={(e) => setPrefix(e.target.value)} disabled={!!query} />
        <SelectInput
          label="Type"
          value={type}
          onChange={(e) => setType(e.target.value)}
          disabled={!!query}
          options={[
            { value: '', label: 'all' },
            { value: 'application/pdf', label: 'PDF' },
            { value: 'image/', label: 'images' },
            { value: 'text/', label: 'text' },
          ]}
        />
      </div>
      <div className="grid gap-6 xl:grid-cols-[3fr_2fr]">
        <PagedTable
          query={list}
          caption="Files"
          columns={[
            {
              key: 'name',
              render: (f) => (
                <button
                  type="button"
                  className="font-medium text-indigo-700 underline dark:text-indigo-300"
                  aria-pressed={selected === f.id}
                  onClick={() => setSelected(f.id)}
                >
                  {f.name}
                </button>
              ),
            },
            { key: 'path' },
            { key: 'size', render: (f) => bytes(f.size) },
            { key: 'extraction_status', label: 'text', render: (f) => extractionBadge(f.extraction_status) },
            { key: 'updated_at', label: 'updated', render: (f) => when(f.updated_at) },
          ]}
        />
        {selected ? <FilePreview id={selected} onDeleted={() => setSelected(null)} /> : <Card title="Preview">Choose a file to see its text or image.</Card>}
      </div>
    </>
  );
}
