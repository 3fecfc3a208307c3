import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linePlot } from './line-plot.js';

test('linePlot draws one path per series with every finite point, and escapes text', () => {
  const svg = linePlot(
    [
      { name: 'a<b', points: [[1, 0.5], [2, 0.7], [3, NaN]] },
      { name: 'c', points: [[1, 0.1], [3, 0.9]] },
    ],
    { title: 'T & U', xLabel: 'x', yLabel: 'y' },
  );
  assert.equal((svg.match(/<path /g) ?? []).length, 2);
  assert.equal((svg.match(/<circle /g) ?? []).length, 4);
  assert.ok(svg.includes('a&lt;b'));
  assert.ok(svg.includes('T &amp; U'));
  assert.ok(!svg.includes('NaN'));
});

test('linePlot places a larger y value higher on the page', () => {
  const svg = linePlot([{ name: 's', points: [[0, 0], [1, 10]] }], { title: '', xLabel: '', yLabel: '' });
  const cys = [...svg.matchAll(/cy="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(cys.length, 2);
  assert.ok((cys[0] as number) > (cys[1] as number));
});
