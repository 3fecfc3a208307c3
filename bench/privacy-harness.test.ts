import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../src/core/rng.js';
import type { Schema } from '../src/data/schema.js';
import type { RawTable } from '../src/data/table.js';
import type { HorizontalJobConfig } from '../src/federation/horizontal/job-config.js';
import { runInProcess } from './privacy-harness.js';

const SCHEMA: Schema = {
  version: 1,
  columns: [
    { name: 'x1', type: 'numeric' },
    { name: 'x2', type: 'numeric' },
    { name: 'y', type: 'label', classes: ['0', '1'], positive: ['1'] },
  ],
};

/** Rows whose label follows x1 + x2, so that a model learns something. */
function part(id: string, seed: number, rows: number): { id: string; raw: RawTable } {
  const rng = seededRng(seed);
  const data = Array.from({ length: rows }, () => {
    const x1 = rng.normal();
    const x2 = rng.normal();
    return [x1.toFixed(4), x2.toFixed(4), x1 + x2 + 0.3 * rng.normal() > 0 ? '1' : '0'];
  });
  return { id, raw: { source: `memory:${id}`, header: ['x1', 'x2', 'y'], rows: data } };
}

function job(rounds: number, privacy?: HorizontalJobConfig['privacy']): HorizontalJobConfig {
  return {
    jobId: 'harness-test',
    schema: SCHEMA,
    testFraction: 0.25,
    splitSeed: 1,
    model: { kind: 'logistic' },
    strategy: { name: 'fedavg', fractionFit: 1, minFit: 1, epochs: 1, batchSize: 8, learningRate: 0.1 },
    rounds,
    seed: 1,
    ...(privacy !== undefined ? { privacy } : {}),
  };
}

const PARTS = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((id, i) => part(id, 10 + i, 40));

test('a crashing participant is dropped at the SecAgg+ collect stage in every round, and the job still completes with the others', async () => {
  const crashing = new Set(['p3']);

  const { job: result, roundCpuMs } = await runInProcess(job(2, { aggregation: 'secagg+' }), PARTS, { crashing });

  assert.equal(result.rounds.length, 2);
  for (const r of result.rounds) {
    assert.deepEqual([...r.received].sort(), ['p1', 'p2', 'p4', 'p5', 'p6']);
    const drop = r.dropped.find((d) => d.participantId === 'p3');
    assert.ok(drop !== undefined && drop.reason.startsWith('secagg collect'), `round ${r.round}: ${JSON.stringify(r.dropped)}`);
  }
  assert.equal(roundCpuMs.length, 2);
  assert.ok(roundCpuMs.every((x) => Number.isFinite(x) && x >= 0));
});

test('plain and SecAgg+ jobs with the same crash reach the same model up to quantisation, and without crashes nobody is dropped', async () => {
  const crashing = new Set(['p5']);

  const plain = await runInProcess(job(2), PARTS, { crashing });
  const secure = await runInProcess(job(2, { aggregation: 'secagg+' }), PARTS, { crashing });
  const clean = await runInProcess(job(1), PARTS);

  assert.ok(plain.job.rounds.every((r) => r.dropped.some((d) => d.participantId === 'p5') && !r.received.includes('p5')));
  const diff = Math.max(...plain.job.params.map((v, i) => Math.abs(v - (secure.job.params[i] ?? Number.NaN))));
  assert.ok(diff < 1e-3, `max parameter difference ${diff}`);
  assert.deepEqual(clean.job.rounds[0]?.dropped, []);
  assert.equal(clean.job.rounds[0]?.received.length, PARTS.length);
});
