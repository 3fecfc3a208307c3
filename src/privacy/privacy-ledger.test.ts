import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, ValidationError } from '../core/errors.js';
import { PrivacyLedger, type LedgerEntry } from './privacy-ledger.js';
import { RdpAccountant } from './rdp-accountant.js';

const learner = (round: number, participantId: string, steps = 30): LedgerEntry => ({ round, unit: 'learner', participantId, q: 0.05, sigma: 1.1, steps });
const platform = (round: number): LedgerEntry => ({ round, unit: 'platform', q: 0.2, sigma: 1.5, steps: 1 });

test('each participant’s learner-level ε and the job’s platform-level ε come from separate accountants', () => {
  // Prepare
  const ledger = new PrivacyLedger({ delta: 1e-5 });
  // Execute: p1 trains in rounds 1–3, p2 only in round 2.
  for (const r of [1, 2, 3]) ledger.record(learner(r, 'p1'));
  ledger.record(learner(2, 'p2'));
  for (const r of [1, 2, 3]) ledger.record(platform(r));
  // Assert
  const expect = (q: number, sigma: number, steps: number) => new RdpAccountant().compose(q, sigma, steps).getEpsilon(1e-5);
  assert.equal(ledger.spent('learner', 'p1').epsilon, expect(0.05, 1.1, 90));
  assert.equal(ledger.spent('learner', 'p2').epsilon, expect(0.05, 1.1, 30));
  assert.equal(ledger.spent('platform').epsilon, expect(0.2, 1.5, 3));
  assert.equal(ledger.spent('learner', 'nobody').epsilon, 0);
  assert.deepEqual(
    ledger.summary().map((s) => [s.unit, s.participantId, s.rounds, s.lastRound]),
    [
      ['platform', undefined, 3, 3],
      ['learner', 'p1', 3, 3],
      ['learner', 'p2', 1, 2],
    ],
  );
});

test('local DP is a per-participant account of unsampled Gaussian steps, apart from learner-level DP of the same participant', () => {
  const ledger = new PrivacyLedger({ delta: 1e-5 });
  ledger.record({ round: 1, unit: 'local', participantId: 'p1', q: 1, sigma: 4, steps: 1 });
  ledger.record({ round: 2, unit: 'local', participantId: 'p1', q: 1, sigma: 4, steps: 1 });
  ledger.record(learner(1, 'p1'));
  assert.equal(ledger.spent('local', 'p1').epsilon, new RdpAccountant().compose(1, 4, 2).getEpsilon(1e-5));
  assert.equal(ledger.spent('learner', 'p1').epsilon, new RdpAccountant().compose(0.05, 1.1, 30).getEpsilon(1e-5));
  assert.deepEqual(ledger.summary().map((s) => [s.unit, s.participantId]), [['learner', 'p1'], ['local', 'p1']]);
  assert.match(ledger.wouldExceed(0.1, { round: 3, unit: 'local', participantId: 'p1', q: 1, sigma: 4, steps: 1 }).message, /participant "p1" \(local DP\)/);
});

test('projected() and wouldExceed() look one round ahead without recording it', () => {
  const ledger = new PrivacyLedger({ delta: 1e-5 });
  for (const r of [1, 2]) ledger.record(learner(r, 'school-7', 200));
  const now = ledger.spent('learner', 'school-7').epsilon;
  const next = learner(3, 'school-7', 200);
  const projected = ledger.projected(next).epsilon;
  assert.ok(projected > now);
  assert.equal(ledger.spent('learner', 'school-7').epsilon, now, 'nothing recorded');
  assert.equal(ledger.entries().length, 2);

  const over = ledger.wouldExceed((now + projected) / 2, next);
  assert.equal(over.exceeds, true);
  assert.equal(over.projectedEpsilon, projected);
  assert.match(over.message, /participant "school-7"/);
  assert.match(over.message, /round 3/);
  assert.match(over.message, new RegExp(`ε = ${projected.toPrecision(4).replace('.', '\\.')}`));
  assert.match(over.message, /above its budget ε = /);
  const within = ledger.wouldExceed(projected + 1, next);
  assert.equal(within.exceeds, false);
  assert.match(within.message, /within its budget/);
  assert.match(ledger.wouldExceed(0.01, platform(1)).message, /^the job \(platform-level DP\)/);
});

test('fromEntries(entries()) rebuilds the same ledger', () => {
  const a = new PrivacyLedger({ delta: 1e-6, conversion: 'classic' });
  a.record(learner(1, 'p1'));
  a.record(platform(1));
  a.record(learner(2, 'p1', 10));
  const b = PrivacyLedger.fromEntries(a.entries(), { delta: 1e-6, conversion: 'classic' });
  assert.deepEqual(b.summary(), a.summary());
  assert.deepEqual(b.entries(), a.entries());
});

test('invalid entries: a learner entry without participant, a platform entry with one, bad numbers, rounds going back', () => {
  const ledger = new PrivacyLedger({ delta: 1e-5 });
  const field = (f: string) => (e: unknown) => e instanceof ConfigError && e.field === f;
  assert.throws(() => ledger.record({ round: 1, unit: 'learner', q: 0.1, sigma: 1, steps: 1 }), field('participantId'));
  assert.throws(() => ledger.record({ ...platform(1), participantId: 'p' }), field('participantId'));
  assert.throws(() => ledger.record({ ...platform(0) }), field('round'));
  assert.throws(() => ledger.record({ ...platform(1), q: 2 }), field('q'));
  assert.throws(() => ledger.record({ ...platform(1), sigma: -1 }), field('sigma'));
  assert.throws(() => ledger.record({ ...platform(1), steps: 0.5 }), field('steps'));
  ledger.record(learner(2, 'p9'));
  assert.throws(() => ledger.record(learner(2, 'p9')), (e: unknown) => e instanceof ValidationError && e.participant === 'p9');
  assert.throws(() => new PrivacyLedger({ delta: 1 }), field('delta'));
  assert.throws(() => ledger.wouldExceed(0, platform(1)), field('maxEpsilon'));
  assert.throws(() => ledger.spent('learner'), field('participantId'));
});
