// The writing view: title, kind, folder, tags and summary, and the markdown beside its live preview (markdown-it with raw
// HTML escaped, the same renderer as task descriptions). Saving a changed title or text makes the next revision.
import { type FormEvent, useEffect, useState } from 'react';
import { api, ok } from '../../api/client';
import { Field, SelectInput, TextInput, controlClass, fieldError } from '../../ui/field';
import { Button, ErrorNote } from '../../ui/kit';
import { Markdown } from '../../ui/markdown';
import { type Doc, kindOptions, splitTags, useDocsMutation, useFolders } from './api';

const formOf = (d: Doc) => ({
  title: d.title,
  kind: d.kind,
  folder_id: d.folder_id ?? '',
  tags: d.tags.join(', '),
  summary: d.summary ?? '',
  content_md: d.content_md,
});

export function Editor({ doc }: { doc: Doc }) {
  const [form, setForm] = useState(() => formOf(doc));
  // The summary the form started from: a draft that arrives while the page is open replaces it, unless edited here.
  const [baseSummary, setBaseSummary] = useState(doc.summary ?? '');
  const liveSummary = doc.summary ?? '';
  useEffect(() => {
    if (liveSummary === baseSummary) return;
    setForm((f) => (f.summary === baseSummary ? { ...f, summary: liveSummary } : f));
    setBaseSummary(liveSummary);
  }, [liveSummary, baseSummary]);
  const folders = useFolders();
  const save = useDocsMutation(() =>
    ok(
      api.PATCH('/api/v1/documents/{id}', {
        params: { path: { id: doc.id } },
        body: {
          title: form.title,
          kind: form.kind,
          folder_id: form.folder_id || null,
          tags: splitTags(form.tags),
          content_md: form.content_md,
          // Sent only when edited: an untouched drafted summary stays the AI's (and is redrafted as the text changes);
          // an emptied one asks for a new draft.
          ...(form.summary !== baseSummary ? { summary: form.summary.trim() || null } : {}),
        },
      }),
    ),
  );
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const dirty = JSON.stringify(form) !== JSON.stringify(formOf(doc));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(undefined, { onSuccess: (d) => setForm(formOf(d)) });
  };
  const err = (f: string) => fieldError(save.error, f);
  const folderOptions = [{ value: '', label: 'Not in a folder' }, ...(folders.data?.data ?? []).map((f) => ({ value: f.id, label: f.path }))];
  return (
    <form className="space-y-3" onSubmit={submit} noValidate>
      <div className="grid gap-3 md:grid-cols-[2fr_1fr_1fr_1fr]">
        <TextInput label="Title" value={form.title} onChange={set('title')} error={err('title')} />
        <SelectInput label="Kind" value={form.kind} onChange={set('kind')} options={kindOptions} />
        <SelectInput label="Folder" value={form.folder_id} onChange={set('folder_id')} options={folderOptions} error={err('folder_id')} />
        <TextInput label="Tags" hint="Comma-separated" value={form.tags} onChange={set('tags')} error={err('tags')} />
      </div>
      <TextInput
        label="Summary"
        hint={doc.summary_source === 'ai' ? 'Drafted by AI: write your own to keep it, or empty it for a new draft' : 'Empty it to have one drafted'}
        value={form.summary}
        onChange={set('summary')}
        error={err('summary')}
      />
      <div className="grid gap-3 lg:grid-cols-2">
        <Field label="Content" hint="Markdown" error={err('content_md')}>
          {(a) => <textarea rows={22} className={`${controlClass} font-mono`} value={form.content_md} onChange={set('content_md')} {...a} />}
        </Field>
        <section aria-label="Preview" className="space-y-1">
          <h3 className="text-sm font-medium">Preview</h3>
          <div className="min-h-[10rem] rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
            {form.content_md.trim() ? (
              <Markdown text={form.content_md} />
            ) : (
              <p className="text-sm text-zinc-600 dark:text-zinc-400">Nothing written yet.</p>
            )}
          </div>
        </section>
      </div>
      {save.error && !['title', 'tags', 'summary', 'content_md', 'folder_id'].some(err) && <ErrorNote error={save.error} />}
      <div className="flex items-center gap-3">
        <Button type="submit" disabled={!dirty || save.isPending}>
          {save.isPending ? 'Saving…' : 'Save'}
        </Button>
        <p aria-live="polite" className="text-sm text-zinc-600 dark:text-zinc-400">
          {dirty ? 'Unsaved changes' : save.isSuccess ? `Saved — revision ${doc.revision}` : ''}
        </p>
      </div>
    </form>
  );
}
