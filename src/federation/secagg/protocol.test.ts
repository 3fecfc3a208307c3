import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskContext, maskSign, SEALED_SHARES_BYTES, shareAad, shareCoordinates, SHARE_BYTES } from './protocol.js';

test('the pairwise mask context is symmetric in the pair and the signs are opposite, so the two masks cancel', () => {
  assert.equal(maskContext('j', 2, 'a', 'b'), maskContext('j', 2, 'b', 'a'));
  assert.equal(maskSign('a', 'b') + maskSign('b', 'a'), 0);
  assert.notEqual(maskContext('j', 2, 'a', 'b'), maskContext('j', 3, 'a', 'b'));
  assert.notEqual(maskContext('j', 2, 'a', 'b'), maskContext('k', 2, 'a', 'b'));
});

test('share authenticated data binds the direction and cannot be confused by ids containing separators', () => {
  assert.notEqual(shareAad('j', 1, 'a', 'b'), shareAad('j', 1, 'b', 'a'));
  assert.notEqual(shareAad('j', 1, 'a|b', 'c'), shareAad('j', 1, 'a', 'b|c'));
  assert.notEqual(shareAad('j|1', 1, 'a', 'b'), shareAad('j', 11, 'a', 'b'));
});

test('share x-coordinates are 1 + the rank in the owner\'s sorted closed neighbourhood, whatever the list order', () => {
  assert.deepEqual([...shareCoordinates('c', ['d', 'a'])], [['a', 1], ['c', 2], ['d', 3]]);
  assert.deepEqual(shareCoordinates('c', ['a', 'd']), shareCoordinates('c', ['d', 'a']));
  assert.equal(SEALED_SHARES_BYTES, 12 + 2 * SHARE_BYTES + 16);
});
