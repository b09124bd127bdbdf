// Ctrl-K / ⌘-K: find any page and any operation, and — from two characters on — the org's own things (tasks,
// agents, documents, files, records) through global search. Choosing an operation opens its page; "Run" on a read
// operation opens it and runs it at once.
import { Command } from 'cmdk';
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { useOperations } from '../api/spec';
import { KIND_LABEL, useGlobalSearch } from '../pages/search/api';
import { useDebounced } from '../ui/debounce';
import { NAV } from './nav';

const item =
  'flex cursor-pointer items-center justify-between gap-3 rounded px-3 py-2 text-sm aria-selected:bg-indigo-600 aria-selected:text-white';
const group = 'px-1 py-1 text-xs font-medium text-zinc-600 dark:text-zinc-400 [&_[cmdk-group-heading]]:px-2 [&_[cmdk-group-heading]]:py-1';

export function usePaletteShortcut(setOpen: (fn: (open: boolean) => boolean) => void) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key.toLowerCase() === 'k' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        setOpen((o) => !o);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [setOpen]);
}

export function Palette({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const navigate = useNavigate();
  // The OpenAPI document is large: read it when the palette first opens, not with every page.
  const ops = useOperations(open);
  const [search, setSearch] = useState('');
  const go = (to: string) => {
    onOpenChange(false);
    setSearch('');
    navigate(to);
  };
  const found = useGlobalSearch(useDebounced(open ? search : '', 250), { limit: 3 });
  const groups = (found.data?.groups ?? []).filter((g) => g.hits.length > 0);
  const reads = (ops.data ?? []).filter((o) => o.method === 'GET' && !o.params.some((p) => p.required));
  return (
    <Command.Dialog
      open={open}
      onOpenChange={onOpenChange}
      label="Command palette"
      overlayClassName="fixed inset-0 z-40 bg-black/50"
      contentClassName="fixed left-1/2 top-[12vh] z-50 w-[min(40rem,94vw)] -translate-x-1/2 overflow-hidden rounded-lg border border-zinc-200 bg-white shadow-2xl dark:border-zinc-800 dark:bg-zinc-900"
    >
      <Command.Input
        value={search}
        onValueChange={setSearch}
        placeholder="Search the org, pages and operations…"
        aria-label="Search the org, pages and operations"
        className="w-full border-b border-zinc-200 bg-transparent px-4 py-3 text-base outline-none dark:border-zinc-800"
      />
      <Command.List className="max-h-[60vh] overflow-y-auto p-2">
        <Command.Empty className="px-3 py-6 text-center text-sm text-zinc-600 dark:text-zinc-400">No match.</Command.Empty>
        <Command.Group heading="Pages" className={group}>
          {NAV.map((n) => (
            <Command.Item key={n.path} value={`page ${n.label} ${n.keywords}`} onSelect={() => go(n.path)} className={item}>
              {n.label}
            </Command.Item>
          ))}
        </Command.Group>
        {/* The server already matched these: forceMount keeps cmdk's own fuzzy filter from hiding them. */}
        {groups.map((g) => (
          <Command.Group key={g.kind} heading={`${KIND_LABEL[g.kind]} · ${g.total.label}`} className={group} forceMount>
            {g.hits.map((h) => (
              <Command.Item key={`${g.kind}-${h.id}`} value={`hit ${g.kind} ${h.id}`} onSelect={() => go(h.path)} className={item} forceMount>
                <span className="truncate">{h.title}</span>
              </Command.Item>
            ))}
          </Command.Group>
        ))}
        <Command.Group heading="Run a read operation" className={group}>
          {reads.map((o) => (
            <Command.Item key={`run-${o.id}`} value={`run ${o.id} ${o.summary}`} onSelect={() => go(`/ops/${o.id}?run=1`)} className={item}>
              <span>Run {o.id}</span>
              <span className="truncate text-xs opacity-80">{o.summary}</span>
            </Command.Item>
          ))}
        </Command.Group>
        <Command.Group heading="Operations" className={group}>
          {(ops.data ?? []).map((o) => (
            <Command.Item key={o.id} value={`op ${o.id} ${o.summary}`} onSelect={() => go(`/ops/${o.id}`)} className={item}>
              <span>{o.id}</span>
              <span className="truncate text-xs opacity-80">{o.summary}</span>
            </Command.Item>
          ))}
        </Command.Group>
        {search.trim().length >= 2 && (
          <Command.Item value={`search everything ${search}`} onSelect={() => go(`/search?q=${encodeURIComponent(search.trim())}`)} className={item} forceMount>
            Search everything for “{search.trim()}”
          </Command.Item>
        )}
      </Command.List>
    </Command.Dialog>
  );
}
