import { test } from 'node:test';
import assert from 'node:assert/strict';
import { section, sleb, uleb, utf8Name, WASM_HEADER } from './wasm-encoding.js';

test('LEB128 matches the textbook values (DWARF / WebAssembly spec examples)', () => {
  assert.deepEqual(uleb(0), [0x00]);
  assert.deepEqual(uleb(127), [0x7f]);
  assert.deepEqual(uleb(128), [0x80, 0x01]);
  assert.deepEqual(uleb(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(sleb(63), [0x3f]);
  assert.deepEqual(sleb(64), [0xc0, 0x00]);
  assert.deepEqual(sleb(-1), [0x7f]);
  assert.deepEqual(sleb(-123456), [0xc0, 0xbb, 0x78]);
});

test('an empty module with a named export section validates', () => {
  // One function type () → (), one function of that type with an empty body, exported as "f".
  const bytes = new Uint8Array([
    ...WASM_HEADER,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...utf8Name('f'), 0x00, 0]),
    ...section(10, [1, 2, 0, 0x0b]),
  ]);
  // The WebAssembly global has no typings in this project (the kernels probe for it the same way).
  const wasm: unknown = Reflect.get(globalThis, 'WebAssembly');
  const validate: unknown = typeof wasm === 'object' && wasm !== null ? Reflect.get(wasm, 'validate') : undefined;
  assert.ok(typeof validate === 'function');
  assert.equal(Reflect.apply(validate, wasm, [bytes]), true);
  assert.equal(Reflect.apply(validate, wasm, [bytes.subarray(0, bytes.length - 1)]), false);
});
