import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../core/errors.js';
import { toTable } from '../../data/to-table.js';
import { splitOulad } from './split-oulad.js';

const REGION = 'Wales';

test('OULAD splits into a registration portal (A), a learning site (B) and an assessment platform with the label (C), sharing enrolment_id', () => {
  // Execute
  const split = splitOulad({ regions: [REGION] });
  // Assert
  const [a, b, c] = split.platforms;
  assert.deepEqual(split.platforms.map((p) => p.id), ['A', 'B', 'C']);
  assert.ok(a !== undefined && b !== undefined && c !== undefined);
  assert.ok(['gender', 'imd_band', 'num_of_prev_attempts', 'studied_credits', 'date_registration'].every((col) => a.raw.header.includes(col)));
  assert.ok(b.raw.header.slice(2).every((col) => col.startsWith('vle_')) && b.raw.header.length === 8);
  assert.ok(c.raw.header.includes('final_result') && c.raw.header.includes('exam_mean_score') && !c.raw.header.includes('gender'));
  for (const p of split.platforms) {
    assert.equal(p.raw.header[0], 'enrolment_id');
    assert.ok(toTable(p.raw, p.schema).length > 0);
    assert.ok(p.raw.rows.every((r) => r[0]?.split('|').length === 3));
  }
  assert.match(split.description, /Wales/);
});

test('pairwise overlaps are realistic (70–95% of each platform’s learners), some learners are on one platform only, and the split is seeded', () => {
  const split = splitOulad({ regions: [REGION] });
  for (const pair of split.stats.pairs) {
    assert.ok(pair.shareOfA > 0.7 && pair.shareOfA < 0.95 && pair.shareOfB > 0.7 && pair.shareOfB < 0.95, JSON.stringify(pair));
  }
  assert.ok(split.stats.perPlatform.every((p) => p.onlyHere > 0));
  assert.deepEqual(splitOulad({ regions: [REGION] }).stats, split.stats);
  assert.notDeepEqual(splitOulad({ regions: [REGION], seed: 2 }).stats, split.stats);
});

test('an unknown region or an empty region list is a configuration error', () => {
  assert.throws(() => splitOulad({ regions: ['Atlantis'] }), ConfigError);
  assert.throws(() => splitOulad({ regions: [] }), ConfigError);
});
