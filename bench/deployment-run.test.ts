import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RoundRecord } from '../src/coordinator/horizontal-workflow.js';
import { overheadMs, processCpuMs, processMemory, quantile, roundsBetween } from './deployment-run.js';
import { mlpWithParams } from './deployment-oulad.js';

function record(round: number, wallMs: number, maxTrainMs: number): RoundRecord {
  return {
    round,
    selected: [],
    received: [],
    dropped: [],
    metrics: { n: 0, accuracy: 0, auc: 0, f1: 0, logLoss: 0 },
    trainLoss: 0,
    wallMs,
    maxTrainMs,
    aggregateMs: 0,
    trainPhaseMs: 0,
    evaluatePhaseMs: 0,
  };
}

test('quantile interpolates between order statistics and gives the median of an even list as the mean of the middle two', () => {
  const values = [40, 10, 30, 20];

  const [q0, q50, q90, q100] = [0, 0.5, 0.9, 1].map((q) => quantile(values, q));

  assert.deepEqual([q0, q50, q100], [10, 25, 40]);
  assert.ok(Math.abs((q90 ?? 0) - 37) < 1e-9);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test('overhead is wall time minus the slowest training, and roundsBetween keeps the inclusive range of rounds', () => {
  const rounds = [1, 2, 3, 4, 5].map((r) => record(r, 100 + r, 10 * r));

  const steady = roundsBetween(rounds, 3);
  const middle = roundsBetween(rounds, 2, 4);

  assert.deepEqual(steady.map((r) => r.round), [3, 4, 5]);
  assert.deepEqual(middle.map((r) => r.round), [2, 3, 4]);
  assert.deepEqual(steady.map(overheadMs), [73, 64, 55]);
});

test('processMemory and processCpuMs read this process from /proc, and report a missing process as unknown', () => {
  const mem = processMemory(process.pid);
  const cpu = processCpuMs(process.pid);

  if (process.platform === 'linux') {
    assert.ok(mem !== undefined && mem.rssKiB > 1024 && mem.hwmKiB >= mem.rssKiB, `implausible ${JSON.stringify(mem)}`);
    assert.ok(mem.anonKiB + mem.fileKiB + mem.shmemKiB <= mem.rssKiB + 4);
    assert.ok(cpu >= 0);
  }
  assert.equal(processMemory(undefined), undefined);
  assert.ok(Number.isNaN(processCpuMs(undefined)));
  assert.equal(processMemory(2 ** 22 + 12345), undefined);
});

test('mlpWithParams picks two equal hidden layers whose parameter count is the closest to the target', () => {
  for (const target of [10_000, 100_000, 1_000_000]) {
    const { spec, params } = mlpWithParams(53, target);
    assert.equal(spec.kind, 'mlp');
    const h = spec.kind === 'mlp' ? (spec.hidden[0] ?? 0) : 0;
    const count = (k: number): number => k * k + 56 * k + 1;
    assert.equal(params, count(h));
    assert.ok(Math.abs(count(h) - target) <= Math.abs(count(h + 1) - target));
    assert.ok(Math.abs(count(h) - target) <= Math.abs(count(h - 1) - target));
  }
});
