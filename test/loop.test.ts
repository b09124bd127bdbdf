// The worker's loop runner (src/jobs/loop.ts): passes never overlap, a wake during a pass runs one more after it, and
// with `coalesceMs` a burst of wakes is one pass.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { startLoop } from '../src/jobs/loop.ts';
import { until } from './helpers/until.ts';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

test('a burst of wakes runs one coalesced pass; a wake during the pass runs one more after it', async () => {
  let passes = 0;
  let inPass = 0;
  let overlapped = false;
  let release: () => void = () => {};
  let gate = Promise.resolve();
  const loop = startLoop(
    'test',
    log,
    60_000,
    async () => {
      passes++;
      inPass++;
      if (inPass > 1) overlapped = true;
      await gate;
      inPass--;
    },
    { coalesceMs: 30 },
  );
  try {
    for (let i = 0; i < 5; i++) loop.wake();
    assert.equal(passes, 0, 'a woken pass waits out the coalescing window');
    await until('the coalesced pass', () => passes === 1, 5_000);
    await sleep(100);
    assert.equal(passes, 1, 'five wakes, one pass');

    gate = new Promise<void>((res) => {
      release = res;
    });
    loop.wake();
    await until('the second burst’s pass', () => passes === 2, 5_000);
    loop.wake();
    loop.wake();
    await sleep(80);
    assert.equal(passes, 2, 'wakes during a pass wait for it');
    release();
    gate = Promise.resolve();
    await until('one more pass for them', () => passes === 3, 5_000);
    await sleep(100);
    assert.equal(passes, 3, 'and only one');
    assert.equal(overlapped, false);
  } finally {
    release();
    await loop.stop();
  }
});

test('without coalescing a wake runs the pass at once', async () => {
  let passes = 0;
  const loop = startLoop('test', log, 60_000, async () => {
    passes++;
  });
  try {
    loop.wake();
    assert.equal(passes, 1);
  } finally {
    await loop.stop();
  }
});
