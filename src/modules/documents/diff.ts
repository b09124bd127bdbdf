// A line diff between two revisions (Myers' O((N+M)·D) algorithm, as `diff` and git use), written here rather than
// added as a dependency: forty lines, and the output is exactly the shape the API returns. Common leading and
// trailing lines are taken off first (an edit usually touches a small part of a document). Past MAX_EDITS the
// search stops and the differing middle is shown as removed then added: a correct diff, only not the shortest.

export type DiffLine = { type: 'same' | 'added' | 'removed'; text: string; old_line: number | null; new_line: number | null };

const MAX_EDITS = 1000;

const splitLines = (text: string) => (text === '' ? [] : text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n'));

/** The edit script of `a` → `b` as (type, index) pairs, or null when it needs more than MAX_EDITS edits. */
function myers(a: string[], b: string[]): Array<['same' | 'added' | 'removed', number]> | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDITS);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, a.length, b.length, offset);
    }
  }
  return null;
}

function backtrack(trace: Int32Array[], n: number, m: number, offset: number) {
  const out: Array<['same' | 'added' | 'removed', number]> = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : v[offset + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      y--;
      out.push(['same', --x]);
    }
    if (d > 0) {
      if (x === prevX) out.push(['added', --y]);
      else out.push(['removed', --x]);
    }
  }
  return out.reverse();
}

export function diffLines(before: string, after: string) {
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const script =
    myers(midA, midB) ?? [...midA.map((_, i) => ['removed', i] as ['removed', number]), ...midB.map((_, i) => ['added', i] as ['added', number])];

  const lines: DiffLine[] = [];
  for (let i = 0; i < head; i++) lines.push({ type: 'same', text: a[i], old_line: i + 1, new_line: i + 1 });
  let oldNo = head;
  let newNo = head;
  for (const [type, i] of script) {
    if (type === 'same') lines.push({ type, text: midA[i], old_line: ++oldNo, new_line: ++newNo });
    else if (type === 'removed') lines.push({ type, text: midA[i], old_line: ++oldNo, new_line: null });
    else lines.push({ type, text: midB[i], old_line: null, new_line: ++newNo });
  }
  for (let i = 0; i < tail; i++) lines.push({ type: 'same', text: a[a.length - tail + i], old_line: ++oldNo, new_line: ++newNo });
  return {
    added: lines.filter((l) => l.type === 'added').length,
    removed: lines.filter((l) => l.type === 'removed').length,
    lines,
  };
}

/** The diff as unified text (`-`, `+`, ` ` prefixes), every line kept: what a terminal prints. */
export const unifiedText = (lines: DiffLine[]) => lines.map((l) => `${l.type === 'added' ? '+' : l.type === 'removed' ? '-' : ' '} ${l.text}`).join('\n');
