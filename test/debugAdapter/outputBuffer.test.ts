import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLUSH_MS, MAX_CHUNK, OutputBuffer } from '../../src/debugAdapter/outputBuffer';
import { hitConditionHolds } from '../../src/debugAdapter/runtime';

test('serial output is batched, rate-limited and never dropped', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const sent: string[] = [];
  const out = new OutputBuffer((s) => sent.push(s));
  const text = Array.from({ length: 5000 }, (_, i) => `line ${i} ünïcödé\n`).join('');
  const bytes = new TextEncoder().encode(text);
  // Byte by byte, splitting multi-byte characters across pushes.
  for (let i = 0; i < bytes.length; i += 7) out.push(bytes.subarray(i, i + 7));
  assert.equal(sent.length, 0, 'nothing before the first flush interval');
  t.mock.timers.tick(FLUSH_MS);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].length, MAX_CHUNK);
  t.mock.timers.tick(FLUSH_MS);
  assert.equal(sent.length, 2);
  out.flush();
  assert.equal(sent.join(''), text);
  assert.equal(out.backlog(), 0);
  out.dispose();
});

test('hit conditions', () => {
  assert.equal(hitConditionHolds('3', 3), true);
  assert.equal(hitConditionHolds('== 3', 2), false);
  assert.equal(hitConditionHolds('>= 2', 5), true);
  assert.equal(hitConditionHolds('< 2', 1), true);
  assert.equal(hitConditionHolds('% 2', 4), true);
  assert.equal(hitConditionHolds('% 2', 3), false);
  assert.match(String(hitConditionHolds('often', 1)), /not understood/);
});
