import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError, EduFedError } from '../core/errors.js';
import { combine, P521, shamir, shamir521, split, type RandomSource, type Share } from './shamir.js';

/** A random source replaying the given big-endian byte strings in order (coefficients of a known polynomial). */
function replay(chunks: readonly number[][]): RandomSource {
  let i = 0;
  return (length) => {
    const chunk = chunks[i++];
    if (chunk === undefined || chunk.length !== length) throw new Error(`replay: no ${length}-byte chunk left`);
    return Uint8Array.from(chunk);
  };
}

const be16 = (v: number): number[] => [v >> 8, v & 0xff];
const fromBe = (b: Uint8Array): number => b.reduce((acc, x) => acc * 256 + x, 0);

test('split reproduces the textbook GF(1613) example: f(x) = 1234 + 166x + 94x², shares (1,1494) … (6,775)', () => {
  // Prepare: the finite-field example of Shamir's scheme (Wikipedia), hand-checked: f(2) = 1942 mod 1613 = 329, ...
  const gf1613 = shamir(1613n, 2);
  // Execute
  const shares = gf1613.split(Uint8Array.from(be16(1234)), 3, [1, 2, 3, 4, 5, 6], replay([be16(166), be16(94)]));
  // Assert
  assert.deepEqual(
    shares.map((s) => [s.x, fromBe(s.y)]),
    [[1, 1494], [2, 329], [3, 965], [4, 176], [5, 1188], [6, 775]],
  );
});

test('combine recovers 1234 from every 3-subset of the textbook GF(1613) shares', () => {
  const gf1613 = shamir(1613n, 2);
  const all: Share[] = [[1, 1494], [2, 329], [3, 965], [4, 176], [5, 1188], [6, 775]].map(([x, y]) => ({ x: x as number, y: Uint8Array.from(be16(y as number)) }));
  for (let a = 0; a < 6; a++) for (let b = a + 1; b < 6; b++) for (let c = b + 1; c < 6; c++) {
    const subset = [all[a], all[b], all[c]].filter((s): s is Share => s !== undefined);
    assert.equal(fromBe(gf1613.combine(subset, 3)), 1234, `shares ${a + 1},${b + 1},${c + 1}`);
  }
});

test('any t of n shares reconstruct a random 32-byte secret over GF(2^521 − 1)', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.integer({ min: 1, max: 8 }).chain((t) => fc.tuple(fc.constant(t), fc.integer({ min: t, max: 12 }))),
      fc.infiniteStream(fc.nat()),
      (secret, [t, n], picks) => {
        const xs = Array.from({ length: n }, (_, i) => i + 1);
        const shares = split(secret, t, xs);
        assert.ok(shares.every((s) => s.y.length === 66));
        // A pseudo-random t-subset, in pseudo-random order.
        const pool = shares.slice();
        const chosen: Share[] = [];
        const it = picks[Symbol.iterator]();
        while (chosen.length < t) chosen.push(pool.splice((it.next().value as number) % pool.length, 1)[0] as Share);
        assert.deepEqual(combine(chosen, t), secret);
      },
    ),
    { numRuns: 60 },
  );
});

/** Lagrange interpolation over GF(p) to coefficients (test-only, independent of the scheme). */
function interpolate(points: readonly [bigint, bigint][], p: bigint): bigint[] {
  const m = (a: bigint): bigint => ((a % p) + p) % p;
  const pow = (b: bigint, e: bigint): bigint => {
    let r = 1n;
    let x = m(b);
    for (let k = e; k > 0n; k >>= 1n) {
      if (k & 1n) r = (r * x) % p;
      x = (x * x) % p;
    }
    return r;
  };
  const coeffs = new Array<bigint>(points.length).fill(0n);
  points.forEach(([xi, yi], i) => {
    // basis_i(x) = Π_{j≠i} (x − x_j) / (x_i − x_j), expanded as a polynomial.
    let basis: bigint[] = [1n];
    let den = 1n;
    points.forEach(([xj], j) => {
      if (j === i) return;
      const next = new Array<bigint>(basis.length + 1).fill(0n);
      basis.forEach((c, k) => {
        next[k + 1] = m((next[k + 1] as bigint) + c);
        next[k] = m((next[k] as bigint) - c * xj);
      });
      basis = next;
      den = m(den * (xi - xj));
    });
    const scale = m(yi * pow(den, p - 2n));
    basis.forEach((c, k) => (coeffs[k] = m((coeffs[k] as bigint) + c * scale)));
  });
  return coeffs;
}

test('t − 1 shares are consistent with every secret: for each candidate a polynomial of degree < t passes through them and (0, candidate)', () => {
  const p = 1613n;
  const gf = shamir(p, 2);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1612 }),
      fc.integer({ min: 2, max: 6 }),
      fc.array(fc.integer({ min: 0, max: 1612 }), { minLength: 3, maxLength: 3 }),
      (secret, t, candidates) => {
        const xs = Array.from({ length: t + 2 }, (_, i) => i + 1);
        const known = gf.split(Uint8Array.from(be16(secret)), t, xs).slice(0, t - 1);
        for (const candidate of [...candidates, secret]) {
          // Construct the polynomial through (0, candidate) and the t − 1 known shares.
          const pts: [bigint, bigint][] = [[0n, BigInt(candidate)], ...known.map((s): [bigint, bigint] => [BigInt(s.x), BigInt(fromBe(s.y))])];
          const f = interpolate(pts, p);
          assert.equal(f.length, t, 'degree < t');
          const at = (x: bigint): bigint => f.reduceRight((acc, c) => (acc * x + c) % p, 0n);
          for (const [x, y] of pts) assert.equal(at(x), y);
          // That polynomial's t-th share completes the known ones to a valid sharing of the candidate.
          const xt = t + 1;
          const completed = [...known, { x: xt, y: Uint8Array.from(be16(Number(at(BigInt(xt))))) }];
          assert.equal(fromBe(gf.combine(completed, t)), candidate);
        }
      },
    ),
    { numRuns: 80 },
  );
});

test('changing any one of the t shares gives a wrong secret (or an inconsistency error), never the right one', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.integer({ min: 1, max: 6 }),
      fc.nat(),
      fc.bigInt({ min: 1n, max: P521 - 1n }),
      (secret, t, which, delta) => {
        const shares = split(secret, t, Array.from({ length: t }, (_, i) => i + 1));
        const i = which % t;
        const original = shares[i] as Share;
        let y = 0n;
        for (const b of original.y) y = (y << 8n) | BigInt(b);
        y = (y + delta) % P521;
        const bytes = new Uint8Array(66);
        for (let k = 65; k >= 0; k--, y >>= 8n) bytes[k] = Number(y & 0xffn);
        const tampered = shares.map((s, k) => (k === i ? { x: s.x, y: bytes } : s));
        let out: Uint8Array | undefined;
        try {
          out = combine(tampered, t);
        } catch (err) {
          assert.ok(err instanceof EduFedError && err.code === 'PROTOCOL', String(err));
          return;
        }
        assert.notDeepEqual(out, secret);
      },
    ),
    { numRuns: 60 },
  );
});

test('invalid arguments are refused with a ConfigError naming the argument', () => {
  const secret = new Uint8Array(32).fill(7);
  const cases: [() => unknown, RegExp][] = [
    [() => split(secret, 0, [1, 2]), /^t: /],
    [() => split(secret, 1.5, [1, 2]), /^t: /],
    [() => split(secret, 3, [1, 2]), /^xs: need at least t = 3/],
    [() => split(secret, 2, [1, 1, 2]), /^xs: x-coordinate 1 appears twice/],
    [() => split(secret, 2, [0, 1]), /^xs: x-coordinate 0/],
    [() => split(secret, 2, [1, 2.5]), /^xs: x-coordinate 2.5/],
    [() => split(new Uint8Array(31), 2, [1, 2]), /^secret: expected 32 bytes/],
    [() => shamir(1613n, 2).split(Uint8Array.from(be16(1613)), 2, [1, 2]), /^secret: its value must be below/],
    [() => shamir(1613n, 2).split(Uint8Array.from(be16(5)), 2, [1, 1613]), /^xs: x-coordinate 1613/],
    [() => combine(split(secret, 3, [1, 2, 3]).slice(0, 2), 3), /^shares: need at least t = 3 shares, got 2/],
    [() => combine([{ x: 1, y: new Uint8Array(66) }, { x: 1, y: new Uint8Array(66) }], 2), /^shares: x-coordinate 1 appears twice/],
    [() => combine([{ x: 1, y: new Uint8Array(65) }], 1), /^shares: share 0 \(x = 1\): y must be 66 bytes/],
    [() => combine([{ x: 1, y: new Uint8Array(66).fill(0xff) }], 1), /^shares: share 0 \(x = 1\): y is not below the field prime/],
    [() => shamir(1614n, 2), /^prime: /],
    [() => shamir(1613n, 0), /^secretBytes: /],
  ];
  for (const [f, message] of cases) assert.throws(f, (e: unknown) => e instanceof ConfigError && message.test(e.message), message.source);
});

test('coefficients are drawn uniformly below the prime: out-of-range draws are rejected and redrawn', () => {
  // Prepare: 0x07ff masks to 2047 ≥ 1613 (rejected), then 0x0064 = 100 is accepted.
  const gf1613 = shamir(1613n, 2);
  // Execute
  const shares = gf1613.split(Uint8Array.from(be16(10)), 2, [1, 2], replay([[0xff, 0xff], be16(100)]));
  // Assert: f(x) = 10 + 100x.
  assert.deepEqual(shares.map((s) => fromBe(s.y)), [110, 210]);
  assert.equal(shamir521.shareBytes, 66);
});
