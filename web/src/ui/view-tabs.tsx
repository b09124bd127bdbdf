// Two or more views of one page (board / list, cards / chart), each its own address so a link keeps the view.
import { Link } from 'react-router';

export function ViewTabs({ label, views, current }: { label: string; views: { to: string; label: string; id: string }[]; current: string }) {
  return (
    <nav aria-label={label} className="flex gap-1">
      {views.map((v) => (
        <Link
          key={v.id}
          to={v.to}
          aria-current={v.id === current ? 'page' : undefined}
          className={`rounded-md px-3 py-1.5 text-sm font-medium ${v.id === current ? 'bg-indigo-600 text-white' : 'text-zinc-800 hover:bg-zinc-100 dark:text-zinc-200 dark:hover:bg-zinc-800'}`}
        >
          {v.label}
        </Link>
      ))}
    </nav>
  );
}
