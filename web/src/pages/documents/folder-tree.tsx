// The folder tree: "All documents", the root, then every folder indented by depth (the API lists them depth first,
// siblings by name). Each entry is a link, so a folder has its own address (?folder=) and the browser's back works.
import { Link } from 'react-router';
import type { Folder, Place } from './api';

const item = (current: boolean) =>
  `flex items-center justify-between gap-2 rounded-md px-2 py-1 text-sm ${current ? 'bg-indigo-600 text-white' : 'text-zinc-800 hover:bg-zinc-100 dark:text-zinc-200 dark:hover:bg-zinc-800'}`;

export function FolderTree({ folders, place }: { folders: Folder[]; place: Place }) {
  const entry = (to: Place, label: string, depth: number, count?: number) => (
    <li key={to}>
      <Link
        to={`/documents?folder=${encodeURIComponent(to)}`}
        aria-current={place === to ? 'page' : undefined}
        className={item(place === to)}
        style={{ paddingLeft: `${0.5 + depth * 0.9}rem` }}
      >
        <span className="truncate">{label}</span>
        {count !== undefined && count > 0 && <span className="text-xs tabular-nums opacity-80">{count}</span>}
      </Link>
    </li>
  );
  return (
    <nav aria-label="Folders">
      <ul className="space-y-0.5">
        {entry('all', 'All documents', 0)}
        {entry('root', 'Not in a folder', 0)}
        {folders.map((f) => entry(f.id, f.name, f.depth, f.document_count))}
      </ul>
    </nav>
  );
}
