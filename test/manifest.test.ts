// The contracts the CLI and `opsbase mcp` load (src/cli/manifest.json, manifest-outputs.json) are the registry's, and every command group
// and toolset they open is described in words.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { cliContracts, MANIFEST_URL, OUTPUTS_URL } from '../src/cli/contract.ts';
import { GROUPS } from '../src/cli/groups.ts';
import { manifestTexts, REGENERATE } from '../src/cli/manifest.ts';
import { cliWords } from '../src/core/operation.ts';
import { TOOLSETS, toolsetOf } from '../src/mcp/toolsets.ts';
import { operations } from '../src/operations.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The operations whose entries differ between two texts of a manifest file (either kind). */
function differences(committed: string, expected: string): string {
  const entries = (text: string): Map<string, string> => {
    const parsed = JSON.parse(text) as { operations?: { id: string }[]; outputs?: Record<string, unknown> };
    const pairs = parsed.operations ? parsed.operations.map((c) => [c.id, c] as const) : Object.entries(parsed.outputs ?? {});
    return new Map(pairs.map(([id, value]) => [id, JSON.stringify(value)]));
  };
  try {
    const [old, now] = [entries(committed), entries(expected)];
    const ids = [...new Set([...old.keys(), ...now.keys()])].filter((id) => old.get(id) !== now.get(id));
    return ids.join(', ') || 'their order';
  } catch {
    return 'not valid JSON';
  }
}

test('the committed manifest files match the registry', () => {
  const expected = manifestTexts(operations);
  for (const [url, text] of [
    [MANIFEST_URL, expected.manifest],
    [OUTPUTS_URL, expected.outputs],
  ] as const) {
    const committed = readFileSync(url, 'utf8');
    // Compared as JSON, not as text: a formatter run over the file changes nothing that matters.
    if (isDeepStrictEqual(parse(committed), JSON.parse(text))) continue;
    assert.fail(`${fileURLToPath(url).slice(ROOT.length)} is stale (${differences(committed, text)}): run \`${REGENERATE}\` and commit it.`);
  }
});

test('every command group has a description (src/cli/groups.ts)', () => {
  const groups = new Set(
    cliContracts().flatMap((c) =>
      cliWords(c)
        .slice(0, -1)
        .map((_, i, words) => words.slice(0, i + 1).join(' ')),
    ),
  );
  const missing = [...groups].filter((g) => !GROUPS[g]);
  assert.deepEqual(missing, [], `describe these command groups in src/cli/groups.ts: ${missing.join(', ')}`);
});

test('every operation belongs to a described toolset (src/mcp/toolsets.ts)', () => {
  const missing = [...new Set(cliContracts().map((c) => toolsetOf(c.id)))].filter((name) => !TOOLSETS[name]);
  assert.deepEqual(missing, [], `add these domains to a toolset in src/mcp/toolsets.ts: ${missing.join(', ')}`);
});
