// The contracts the CLI and `opsbase mcp` load (src/cli/manifest.json) are the registry's, and every command group
// and toolset they open is described in words.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { contracts, MANIFEST_URL, type Manifest } from '../src/cli/contract.ts';
import { GROUPS } from '../src/cli/groups.ts';
import { buildManifest, manifestText, REGENERATE } from '../src/cli/manifest.ts';
import { commandWords } from '../src/core/operation.ts';
import { TOOLSETS, toolsetOf } from '../src/mcp/toolsets.ts';
import { operations } from '../src/operations.ts';

test('the committed manifest matches the registry', () => {
  const expected = buildManifest(operations);
  const committed = readFileSync(MANIFEST_URL, 'utf8');
  if (committed === manifestText(expected)) return;
  let differ = 'unreadable: not valid JSON';
  try {
    const old = new Map((JSON.parse(committed) as Manifest).operations.map((c) => [c.id, JSON.stringify(c)]));
    const ids = new Set(expected.operations.map((c) => c.id));
    const changed = expected.operations.filter((c) => old.get(c.id) !== JSON.stringify(c)).map((c) => c.id);
    const removed = [...old.keys()].filter((id) => !ids.has(id));
    differ = [...changed, ...removed].join(', ') || 'order or format';
  } catch {
    /* keep "unreadable" */
  }
  assert.fail(`src/cli/manifest.json is stale (${differ}): run \`${REGENERATE}\` and commit it.`);
});

test('every command group has a description (src/cli/groups.ts)', () => {
  const groups = new Set(contracts().flatMap((c) => commandWords(c.id).slice(0, -1).map((_, i, words) => words.slice(0, i + 1).join(' '))));
  const missing = [...groups].filter((g) => !GROUPS[g]);
  assert.deepEqual(missing, [], `describe these command groups in src/cli/groups.ts: ${missing.join(', ')}`);
});

test('every operation belongs to a described toolset (src/mcp/toolsets.ts)', () => {
  const missing = [...new Set(contracts().map((c) => toolsetOf(c.id)))].filter((name) => !TOOLSETS[name]);
  assert.deepEqual(missing, [], `add these domains to a toolset in src/mcp/toolsets.ts: ${missing.join(', ')}`);
});
