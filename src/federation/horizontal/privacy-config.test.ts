import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STRATEGY_NAMES } from '../../strategy/create-strategy.js';
import { checkPrivacyCombination, parsePrivacyConfig, platformNoise, type PrivacyConfig } from './privacy-config.js';

const dp = (extra: Partial<NonNullable<PrivacyConfig['dp']>> = {}): NonNullable<PrivacyConfig['dp']> => ({ unit: 'platform', clipNorm: 1, noiseMultiplier: 1, ...extra });

test('robust aggregators are refused under secure aggregation with the reason and an alternative', () => {
  for (const s of ['fedmedian', 'fedtrimmedavg', 'krum'] as const) {
    for (const aggregation of ['secagg+', 'ckks'] as const) {
      assert.throws(() => checkPrivacyCombination(s, { aggregation }), /needs individual updates.*Use a mean-based strategy/);
    }
  }
});

test('every mean-based strategy runs under every aggregation mode', () => {
  for (const s of ['fedavg', 'fedprox', 'fedper', 'fedadam', 'fedyogi', 'fedadagrad'] as const) {
    for (const aggregation of ['plain', 'secagg+', 'ckks'] as const) checkPrivacyCombination(s, { aggregation });
  }
});

test('robust aggregators combine with learner and local DP but not with platform DP', () => {
  checkPrivacyCombination('fedmedian', { dp: { unit: 'learner', clipNorm: 1, noiseMultiplier: 1 } });
  checkPrivacyCombination('krum', { dp: { unit: 'local', clipNorm: 1, noiseMultiplier: 1 } });
  assert.throws(() => checkPrivacyCombination('krum', { dp: dp() }), /sensitivity/);
});

test('central platform noise needs plain aggregation and distributed noise needs secure aggregation', () => {
  checkPrivacyCombination('fedavg', { dp: dp({ noise: 'central' }) });
  checkPrivacyCombination('fedavg', { aggregation: 'secagg+', dp: dp({ noise: 'distributed' }) });
  assert.throws(() => checkPrivacyCombination('fedavg', { aggregation: 'ckks', dp: dp({ noise: 'central' }) }), /use noise "distributed"/);
  assert.throws(() => checkPrivacyCombination('fedavg', { dp: dp({ noise: 'distributed' }) }), /1\/√n share/);
  assert.equal(platformNoise({ dp: dp() }), 'central');
  assert.equal(platformNoise({ aggregation: 'secagg+', dp: dp() }), 'distributed');
});

test('adaptive clipping is refused with distributed noise and accepted with central noise', () => {
  checkPrivacyCombination('fedadam', { dp: dp({ adaptiveClip: { targetQuantile: 0.5 } }) });
  assert.throws(() => checkPrivacyCombination('fedavg', { aggregation: 'secagg+', dp: dp({ adaptiveClip: {} }) }), /fixed clipNorm/);
});

test('bad values name their field', () => {
  assert.throws(() => checkPrivacyCombination('fedavg', { dp: dp({ clipNorm: 0 }) }), /privacy\.dp\.clipNorm/);
  assert.throws(() => checkPrivacyCombination('fedavg', { dp: { unit: 'learner', clipNorm: 1 } }), /noiseMultiplier or targetEpsilon/);
  assert.throws(() => checkPrivacyCombination('fedavg', { dp: dp({ targetEpsilon: 1 }) }), /not both/);
  assert.throws(() => checkPrivacyCombination('fedavg', { dp: dp({ delta: 2 }) }), /privacy\.dp\.delta/);
  assert.throws(() => checkPrivacyCombination('fedavg', { dp: { unit: 'learner', clipNorm: 1, noiseMultiplier: 1, noise: 'central' } }), /platform unit only/);
});

test('no privacy section and plain aggregation accept every strategy', () => {
  for (const s of STRATEGY_NAMES) {
    checkPrivacyCombination(s, undefined);
    checkPrivacyCombination(s, { aggregation: 'plain' });
  }
});

test('parsing JSON keeps valid settings and names unknown or mistyped fields', () => {
  const parsed = parsePrivacyConfig(JSON.parse('{"aggregation":"secagg+","dp":{"unit":"platform","clipNorm":0.5,"noiseMultiplier":1.1,"delta":1e-6}}'));
  assert.deepEqual(parsed, { aggregation: 'secagg+', dp: { unit: 'platform', clipNorm: 0.5, noiseMultiplier: 1.1, delta: 1e-6 } });
  assert.throws(() => parsePrivacyConfig({ aggregation: 'paillier' }), /privacy\.aggregation.*unknown mode/);
  assert.throws(() => parsePrivacyConfig({ dp: { unit: 'platform', clipNorm: '1' } }), /privacy\.dp\.clipNorm/);
  assert.throws(() => parsePrivacyConfig({ dp: { unit: 'row', clipNorm: 1 } }), /privacy\.dp\.unit/);
  assert.throws(() => parsePrivacyConfig({ dp: { unit: 'learner', clipNorm: 1, sigma: 1 } }), /privacy\.dp\.sigma.*not a setting/);
  assert.throws(() => parsePrivacyConfig({ secagg: {} }), /privacy\.secagg.*not a setting/);
});
