// How values read to a person: numbers grouped, times relative when recent, anything else as compact JSON.
const nf = new Intl.NumberFormat();
export const num = (n: number | null | undefined) => (n == null ? '—' : nf.format(n));

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return String(iso);
  const s = Math.round((Date.now() - t) / 1000);
  const abs = Math.abs(s);
  const rel = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.round(abs / 60)}m` : abs < 86400 ? `${Math.round(abs / 3600)}h` : '';
  if (rel) return s >= 0 ? `${rel} ago` : `in ${rel}`;
  return new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
export function cell(v: unknown): string {
  if (v == null) return '—';
  if (typeof v === 'string') return ISO.test(v) ? when(v) : v;
  if (typeof v === 'number') return num(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.map(cell).join(', ');
  return JSON.stringify(v);
}

export const bytes = (n: number) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(1)} MB`);
/** An amount in cents of an ISO 4217 currency (the catalog's, lowercase), e.g. `$45.00`. */
export const money = (cents: number, currency = 'usd') =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() }).format(cents / 100);
