/**
 * Test support: runs `fn` and returns the DataError it throws, so a test can assert on the file, row
 * and column the error names. Any other outcome fails the test.
 */
import assert from 'node:assert/strict';
import { DataError } from '../core/errors.js';

/** The DataError thrown by `fn`. @throws AssertionError when `fn` returns, or rethrows any other error */
export function expectDataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DataError) return err;
    throw err;
  }
  assert.fail('expected a DataError');
}
