import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PLOT_HEIGHT, rangeBelowLegend } from './plot-range.js';

test('rangeBelowLegend contains every value and leaves the legend rows above the highest one', () => {
  // Prepare
  const values = [0.83, 0.84, 0.86];
  const lines = 4;
  // Execute
  const [y0, y1] = rangeBelowLegend(values, lines);
  // Assert: the highest value maps below the legend's pixel rows (16 px each plus padding).
  assert.ok(y0 < 0.83 && y1 > 0.86);
  const inner = PLOT_HEIGHT - 40 - 55;
  const topOfData = ((0.86 - y0) / (y1 - y0)) * inner;
  assert.ok(inner - topOfData >= 16 * lines, `only ${inner - topOfData} px above the data`);
});

test('rangeBelowLegend gives a non-empty range for constant values and ignores NaN', () => {
  // Execute
  const [y0, y1] = rangeBelowLegend([2, 2, Number.NaN], 1);
  // Assert
  assert.ok(y0 < 2 && y1 > 2);
});
