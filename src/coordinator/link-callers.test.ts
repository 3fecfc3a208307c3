import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageRecord } from '../transport/audit.js';
import { MemoryTransport } from '../transport/memory.js';
import { runHorizontalJob } from './horizontal-workflow.js';
import { ConnectedParticipants } from './link-callers.js';
import { HorizontalParticipant } from '../participant/horizontal-participant.js';
import { horizontalHandler } from '../participant/horizontal-handler.js';
import { simulateHorizontal } from '../simulation/simulate.js';
import type { HorizontalJobConfig } from '../federation/horizontal/job-config.js';
import type { RawTable } from '../data/table.js';
import { seededRng } from '../core/rng.js';

function table(k: number): RawTable {
  const rng = seededRng(100 + k);
  const rows: string[][] = [];
  for (let i = 0; i < 200; i++) {
    const a = rng.normal();
    const c = rng.next() < 0.3 ? 'x' : rng.next() < 0.5 ? 'y' : 'z';
    rows.push([a.toFixed(3), c, rng.next() < 1 / (1 + Math.exp(-2 * a - (c === 'x' ? 1 : 0))) ? 'yes' : 'no']);
  }
  return { source: `t${k}.csv`, header: ['a', 'c', 'label'], rows };
}

const config: HorizontalJobConfig = {
  jobId: 'wire-job',
  schema: {
    version: 1,
    columns: [
      { name: 'a', type: 'numeric' },
      { name: 'c', type: 'categorical' },
      { name: 'label', type: 'label', classes: ['no', 'yes'], positive: ['yes'] },
    ],
  },
  testFraction: 0.2,
  splitSeed: 1,
  model: { kind: 'mlp', hidden: [4] },
  strategy: { name: 'fedadam', fractionFit: 1, minFit: 1, epochs: 1, batchSize: 8, learningRate: 0.05 },
  rounds: 3,
  seed: 9,
};

test('a job over the binary wire codec gives bit-identical models to the direct in-process calls, and every message is audited', async () => {
  const parts = [0, 1, 2].map((k) => ({ id: `p${k}`, raw: table(k) }));
  const direct = await simulateHorizontal(config, parts, { compare: false });

  const audit: MessageRecord[] = [];
  const transport = new MemoryTransport({ encode: true, audit: (r) => audit.push(r) });
  const connected = new ConnectedParticipants(transport);
  for (const p of parts) transport.connect(p.id, horizontalHandler(new HorizontalParticipant(p.id, p.raw, { seed: config.seed })));
  const wired = await runHorizontalJob(config, () => connected.callers(config.jobId));
  await transport.close();

  assert.deepEqual(wired.params, direct.job.params);
  assert.deepEqual(wired.rounds.map((r) => r.metrics), direct.job.rounds.map((r) => r.metrics));
  // stats + setup + 3 train (rounds 2 and 3 also evaluate the previous model) + a final evaluate + finish
  // = 7 requests per participant, each answered.
  assert.equal(audit.length, 3 * 7 * 2);
  assert.ok(audit.every((r) => /^[0-9a-f]{64}$/.test(r.sha256) && r.bytes > 0));
  const trainUp = audit.filter((r) => r.kind === 'horizontal.train-result');
  assert.equal(trainUp.length, 9);
  assert.ok(trainUp.every((r) => r.sender.startsWith('p') && r.receiver === 'coordinator'));
});

test('a participant disconnecting mid-job is dropped from that round and the job completes with the others', async () => {
  const parts = [0, 1, 2].map((k) => ({ id: `p${k}`, raw: table(k) }));
  const transport = new MemoryTransport({ encode: true });
  const connected = new ConnectedParticipants(transport);
  const handles = parts.map((p) => {
    const role = new HorizontalParticipant(p.id, p.raw, { seed: config.seed });
    const inner = horizontalHandler(role);
    let h: ReturnType<MemoryTransport['connect']> | undefined;
    const handler: typeof inner = async (e, ctx) => {
      if (p.id === 'p1' && e.kind === 'horizontal.train' && e.round === 2) {
        h?.disconnect('crashed');
        return new Promise(() => undefined);
      }
      return inner(e, ctx);
    };
    h = transport.connect(p.id, handler);
    return h;
  });
  const result = await runHorizontalJob({ ...config, roundTimeoutMs: 5000 }, () => connected.callers(config.jobId));
  await transport.close();
  assert.equal(handles.length, 3);
  assert.deepEqual(result.rounds[1]?.received, ['p0', 'p2']);
  assert.equal(result.rounds[1]?.dropped[0]?.participantId, 'p1');
  assert.deepEqual(result.rounds[2]?.received, ['p0', 'p2']);
});
