import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { projectRoot } from '../core/paths.js';
import { ConfigError } from '../core/errors.js';
import { isVerticalJob, loadCoordinatorConfig, parseCoordinatorConfig } from './config.js';
import { loadParticipantConfig } from '../participant/config.js';

const examples = join(projectRoot(), 'examples');

test('the example configurations in examples/ parse, with paths resolved against their folder', () => {
  const c = loadCoordinatorConfig(join(examples, 'coordinator.json'));
  assert.equal(c.listen.port, 7443);
  assert.equal(c.database, join(examples, 'state', 'coordinator.db'));
  assert.ok(!isVerticalJob(c.job));
  assert.equal(c.job.strategy.name, 'fedavg');
  assert.equal(c.job.schema.columns.length, 5);
  assert.equal(c.waitForParticipants, 3);
  for (const f of ['participant.json', 'participant-sqlite.json']) {
    const p = loadParticipantConfig(join(examples, f));
    assert.ok(p.tls.startsWith(examples));
    assert.ok(p.policy?.maxRounds === 50);
  }
});

test('the example of a private job parses: SecAgg+ with learner-level DP at a target ε', () => {
  const c = loadCoordinatorConfig(join(examples, 'coordinator-private.json'));
  assert.ok(!isVerticalJob(c.job));
  assert.equal(c.job.privacy?.aggregation, 'secagg+');
  assert.deepEqual(c.job.privacy?.dp, { unit: 'learner', clipNorm: 1, targetEpsilon: 4, delta: 1e-5 });
  assert.equal(loadParticipantConfig(join(examples, 'participant.json')).policy?.maxEpsilon, 8);
});

test('a private job that combines a robust aggregator with secure aggregation is refused when the file is read', () => {
  const job = { id: 'j', schema: join(examples, 'learners.schema.json'), rounds: 3, strategy: { name: 'krum' }, privacy: { aggregation: 'ckks' } };
  assert.throws(() => parseCoordinatorConfig({ listen: { port: 1 }, database: 'x', tls: 'y', job }, examples), /privacy\.aggregation: krum cannot run under ckks/);
});

test('a configuration error names the field', () => {
  assert.throws(
    () => parseCoordinatorConfig({ listen: { port: 99999 }, database: 'x', tls: 'y', job: { id: 'j', schema: join(examples, 'learners.schema.json'), rounds: 3 } }, examples),
    (err: unknown) => err instanceof Error && /listen\.port/.test(err.message),
  );
  assert.throws(
    () => parseCoordinatorConfig({ listen: { port: 1 }, database: 'x', tls: 'y', job: { id: 'j', schema: join(examples, 'learners.schema.json'), rounds: 3, strategy: { name: 'fedmagic' } } }, examples),
    (err: unknown) => err instanceof ConfigError && /fedmagic/.test(err.message),
  );
});

test('a vertical job section parses into the training plan and PSI options, waiting for every platform', () => {
  const job = { kind: 'vertical', id: 'v1', mode: 'plain-lr', labelHolder: 'C', featureHolders: ['A', 'B'], idColumn: 'enrolment_id', epochs: 3, batchSize: 32, learningRate: 0.2, seed: 4 };
  const c = parseCoordinatorConfig({ listen: { port: 1 }, database: 'x', tls: 'y', job }, examples);
  assert.ok(isVerticalJob(c.job));
  assert.equal(c.job.train.mode, 'plain-lr');
  assert.equal(c.job.train.epochs, 3);
  assert.equal(c.job.train.seed, 4);
  assert.deepEqual(c.job.psi, { reveal: 'both', suite: 'x25519' });
  assert.equal(c.waitForParticipants, 3);
  assert.throws(() => parseCoordinatorConfig({ listen: { port: 1 }, database: 'x', tls: 'y', job: { ...job, psi: { reveal: 'cardinality' } } }, examples), /job\.psi\.reveal/);
  assert.throws(() => parseCoordinatorConfig({ listen: { port: 1 }, database: 'x', tls: 'y', job: { ...job, featureHolders: ['C'] } }, examples), /job\.featureHolders/);
});
