import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../../core/errors.js';
import { checkSalt, createJobSalt, createNormalizer, ID_RULES, normalizeId, resolveIdRule, SALT_BYTES, type IdRuleSpec } from './normalize.js';

test('the text rule makes spelling variants of one name equal: NFC, case folding, spaces', () => {
  const variants = ['  Jose\u0301  Müller ', 'JOSÉ MÜLLER', 'josé\tmüller', 'José Mu\u0308ller'];
  const normalized = variants.map((v) => normalizeId(v, 'text'));
  assert.deepEqual(new Set(normalized), new Set(['josé müller']));
});

test('case folding maps ß to ss and final sigma like Unicode full folding', () => {
  assert.equal(normalizeId('Straße'), normalizeId('STRASSE'));
  assert.equal(normalizeId('ΟΔΥΣΣΕΥΣ'), normalizeId('οδυσσευς'));
});

test('the email rule lower-cases and removes all white space', () => {
  assert.equal(normalizeId(' Alice.Smith @Example.ORG\n', 'email'), 'alice.smith@example.org');
});

test('the digits rule keeps digits, including full-width ones, and keeps leading zeros', () => {
  assert.equal(normalizeId('+44 (0)20-7946 0958', 'digits'), '4402079460958');
  assert.equal(normalizeId('０１２３', 'digits'), '0123');
});

test('the number rule strips leading zeros but keeps a single zero', () => {
  assert.equal(normalizeId('S-000123', 'number'), '123');
  assert.equal(normalizeId('000', 'number'), '0');
});

test('a blank or empty value is no identifier under every rule', () => {
  for (const name of Object.keys(ID_RULES)) {
    if (name === 'exact') continue;
    assert.equal(normalizeId('   ', resolveIdRule(name as keyof typeof ID_RULES)), undefined, name);
  }
  assert.equal(normalizeId('', 'exact'), undefined);
  assert.equal(normalizeId(' A ', 'exact'), ' A ');
});

test('removeChars deletes listed characters, regex metacharacters included', () => {
  const rule = resolveIdRule({ base: 'exact', removeChars: '-.^]\\' });
  assert.equal(createNormalizer(rule)('a-b.c^d]e\\f'), 'abcdef');
});

test('normalising twice changes nothing (text and email rules, any Unicode string)', () => {
  for (const name of ['text', 'email'] as const) {
    const norm = createNormalizer(ID_RULES[name]);
    // Found by this property once: the capital sharp s folds in two steps.
    for (const s of ['ẞ', 'ß', 'STRAẞE', 'ǅ', 'ﬀ']) assert.equal(norm(norm(s) ?? ''), norm(s), s);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (s) => {
        const once = norm(s);
        assert.equal(once === undefined ? undefined : norm(once), once);
      }),
      { numRuns: 300 },
    );
  }
});

test('resolveIdRule refuses unknown names and malformed overrides, naming the field', () => {
  assert.throws(() => resolveIdRule('phonetic' as 'text', 'columns[0].rule'), (e: unknown) => e instanceof ConfigError && e.field === 'columns[0].rule');
  assert.throws(() => resolveIdRule({ unicode: 'NFD' as 'NFC' }), /unicode/);
  const notBoolean: unknown = { trim: 'yes' };
  assert.throws(() => resolveIdRule(notBoolean as IdRuleSpec), /trim/);
  assert.throws(() => resolveIdRule({ base: 'nope' as 'text' }), /base/);
});

test('job salts are fresh 32-byte strings and checkSalt refuses short ones', () => {
  const a = createJobSalt();
  assert.equal(a.length, SALT_BYTES);
  assert.notDeepEqual(a, createJobSalt());
  assert.throws(() => checkSalt(new Uint8Array(8)), ConfigError);
  assert.equal(checkSalt(a), a);
});
