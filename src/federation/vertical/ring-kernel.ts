/**
 * The one heavy ring operation of secret-shared vertical training: for a matrix M held in Z_2^64
 * (n rows, d columns, row-major) and a batch of row indices r_0..r_{b−1} with ring weights v,
 * out = Σ_i v_i · M[r_i, ·]  (mod 2^64), i.e. M[batch]ᵀ v.
 *
 * Why WebAssembly: JavaScript has no 64-bit integer multiply on plain numbers, and BigInt
 * arithmetic allocates per operation (measured here: roughly a hundred times slower than the
 * kernel). A WebAssembly `i64.mul` wraps modulo 2^64 by definition, which is exactly the ring.
 * The module is tiny and assembled below from named opcodes so it can be reviewed; text form:
 *
 * ```wat
 * (module
 *   (import "env" "memory" (memory 0))
 *   ;; out[·] += Σ_{i<b} v[i] · M[idx[i], ·]   (the caller zeroes out first; addresses in bytes)
 *   (func (export "mul1") (param $mat i32) (param $cols i32) (param $idx i32) (param $v i32)
 *       (param $b i32) (param $out i32)
 *     (local $i i32) (local $row i32) (local $j i32) (local $rowBytes i32) (local $vi i64)
 *     (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 3)))
 *     (block $done (loop $next
 *       (br_if $done (i32.ge_u (local.get $i) (local.get $b)))
 *       (local.set $row (i32.add (local.get $mat)
 *         (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $i) (i32.const 2)))) (local.get $rowBytes))))
 *       (local.set $vi (i64.load (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 3)))))
 *       (local.set $j (i32.const 0))
 *       (block $rd (loop $col
 *         (br_if $rd (i32.ge_u (local.get $j) (local.get $rowBytes)))
 *         (i64.store (i32.add (local.get $out) (local.get $j))
 *           (i64.add (i64.load (i32.add (local.get $out) (local.get $j)))
 *                    (i64.mul (i64.load (i32.add (local.get $row) (local.get $j))) (local.get $vi))))
 *         (local.set $j (i32.add (local.get $j) (i32.const 8))) (br $col)))
 *       (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $next))))
 *   ;; the same for b a multiple of 4, four rows $r0..$r3 (weights $v0..$v3) per pass over the columns:
 *   ;;   out[j] = out[j] + M[r0,j]·v0 + M[r1,j]·v1 + M[r2,j]·v2 + M[r3,j]·v3;   i += 4
 *   (func (export "mul4") ...))
 * ```
 *
 * Batches gather random rows of a matrix of several megabytes, so the products wait on memory
 * more than they compute; `mul4` keeps four rows' loads in flight at once.
 * Each {@link RingMatrix} owns one instance with its own memory: [matrix | batch indices | weights | out].
 * Where WebAssembly is missing, a BigInt loop computes the same result (slowly).
 */
import { EduFedError, ValidationError } from '../../core/errors.js';
import {
  BLOCK, br, brIf, END, get, I32_ADD, I32_GE_U, I32_MUL, I32_SHL, i32Const, I64_ADD, I64_MUL, LOOP, section, set, T_I32, T_I64, uleb, utf8Name, WASM_HEADER,
} from '../../core/wasm-encoding.js';
import { RING_WORDS, ringElement, ringLength, ringZeros } from './ring.js';

// --- the memory instructions of the functions above (the shared encoder is core/wasm-encoding.ts) ---

/** memarg of a load or store: natural alignment exponent (a hint only) and a constant offset. */
const i32Load = (offset: number): number[] => [0x28, 2, ...uleb(offset)];
const i64Load = (offset: number): number[] => [0x29, 3, ...uleb(offset)];
const I64_STORE = [0x37, 3, 0];

/** `mul1`: out[·] += Σ_i v_i·M[idx_i, ·], one row at a time (for the last b mod 4 rows). */
function mul1Body(): number[] {
  const [mat, cols, idx, v, b, out] = [0, 1, 2, 3, 4, 5];
  const [i, row, j, rowBytes, vi] = [6, 7, 8, 9, 10];
  return [
    ...get(cols), ...i32Const(3), ...I32_SHL, ...set(rowBytes),
    ...BLOCK, ...LOOP,
    ...get(i), ...get(b), ...I32_GE_U, ...brIf(1),
    ...get(mat), ...get(idx), ...get(i), ...i32Const(2), ...I32_SHL, ...I32_ADD, ...i32Load(0),
    ...get(rowBytes), ...I32_MUL, ...I32_ADD, ...set(row),
    ...get(v), ...get(i), ...i32Const(3), ...I32_SHL, ...I32_ADD, ...i64Load(0), ...set(vi),
    ...i32Const(0), ...set(j),
    ...BLOCK, ...LOOP,
    ...get(j), ...get(rowBytes), ...I32_GE_U, ...brIf(1),
    ...get(out), ...get(j), ...I32_ADD,
    ...get(out), ...get(j), ...I32_ADD, ...i64Load(0),
    ...get(row), ...get(j), ...I32_ADD, ...i64Load(0), ...get(vi), ...I64_MUL,
    ...I64_ADD, ...I64_STORE,
    ...get(j), ...i32Const(8), ...I32_ADD, ...set(j),
    ...br(0), ...END, ...END,
    ...get(i), ...i32Const(1), ...I32_ADD, ...set(i),
    ...br(0), ...END, ...END,
    ...END,
  ];
}

/**
 * `mul4`: the same over b rows (a multiple of 4), four rows per pass over the columns, so that
 * four rows' cache misses are in flight at once and `out` is read and written a quarter as often.
 */
function mul4Body(): number[] {
  const [mat, cols, idx, v, b, out] = [0, 1, 2, 3, 4, 5];
  const [i, r0, r1, r2, r3, j, rowBytes, v0, v1, v2, v3] = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  const rowAt = (k: number, r: number): number[] => [
    ...get(mat), ...get(idx), ...get(i), ...i32Const(2), ...I32_SHL, ...I32_ADD, ...i32Load(4 * k),
    ...get(rowBytes), ...I32_MUL, ...I32_ADD, ...set(r),
  ];
  const weightAt = (k: number, w: number): number[] => [...get(v), ...get(i), ...i32Const(3), ...I32_SHL, ...I32_ADD, ...i64Load(8 * k), ...set(w)];
  const term = (r: number, w: number): number[] => [...get(r), ...get(j), ...I32_ADD, ...i64Load(0), ...get(w), ...I64_MUL];
  return [
    ...get(cols), ...i32Const(3), ...I32_SHL, ...set(rowBytes),
    ...BLOCK, ...LOOP,
    ...get(i), ...get(b), ...I32_GE_U, ...brIf(1),
    ...rowAt(0, r0), ...rowAt(1, r1), ...rowAt(2, r2), ...rowAt(3, r3),
    ...weightAt(0, v0), ...weightAt(1, v1), ...weightAt(2, v2), ...weightAt(3, v3),
    ...i32Const(0), ...set(j),
    ...BLOCK, ...LOOP,
    ...get(j), ...get(rowBytes), ...I32_GE_U, ...brIf(1),
    ...get(out), ...get(j), ...I32_ADD,
    ...get(out), ...get(j), ...I32_ADD, ...i64Load(0),
    ...term(r0, v0), ...I64_ADD, ...term(r1, v1), ...I64_ADD, ...term(r2, v2), ...I64_ADD, ...term(r3, v3), ...I64_ADD,
    ...I64_STORE,
    ...get(j), ...i32Const(8), ...I32_ADD, ...set(j),
    ...br(0), ...END, ...END,
    ...get(i), ...i32Const(4), ...I32_ADD, ...set(i),
    ...br(0), ...END, ...END,
    ...END,
  ];
}

function buildModule(): Uint8Array {
  // Locals: mul1 has 4 × i32 ($i, $row, $j, $rowBytes) and 1 × i64 ($vi); mul4 has 7 × i32 and 4 × i64.
  const mul1 = [2, 4, T_I32, 1, T_I64, ...mul1Body()];
  const mul4 = [2, 7, T_I32, 4, T_I64, ...mul4Body()];
  return new Uint8Array([
    ...WASM_HEADER,
    ...section(1, [1, 0x60, 6, T_I32, T_I32, T_I32, T_I32, T_I32, T_I32, 0]),
    ...section(2, [1, ...utf8Name('env'), ...utf8Name('memory'), 0x02, 0x00, 0]),
    ...section(3, [2, 0, 0]),
    ...section(7, [2, ...utf8Name('mul1'), 0x00, 0, ...utf8Name('mul4'), 0x00, 1]),
    ...section(10, [2, ...uleb(mul1.length), ...mul1, ...uleb(mul4.length), ...mul4]),
  ]);
}

// --- loading, without assuming the WebAssembly global or its typings exist ------------------------

interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}

/** Both kernel functions: out[·] += Σ_i v_i·M[idx_i, ·] for b rows (mul4: b a multiple of 4); byte addresses. */
type Accumulate = (mat: number, cols: number, idx: number, v: number, b: number, out: number) => void;

function isWasmApi(x: unknown): x is WasmApi {
  return (
    typeof x === 'object' && x !== null &&
    'validate' in x && typeof x.validate === 'function' &&
    'Module' in x && typeof x.Module === 'function' &&
    'Instance' in x && typeof x.Instance === 'function' &&
    'Memory' in x && typeof x.Memory === 'function'
  );
}

function hasKernel(x: unknown): x is { readonly mul1: Accumulate; readonly mul4: Accumulate } {
  return typeof x === 'object' && x !== null && 'mul1' in x && typeof x.mul1 === 'function' && 'mul4' in x && typeof x.mul4 === 'function';
}

let compiled: { readonly api: WasmApi; readonly module: object } | null | undefined;

function compiledModule(): { readonly api: WasmApi; readonly module: object } | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  const api: unknown = Reflect.get(globalThis, 'WebAssembly');
  if (!isWasmApi(api)) return compiled;
  const bytes = buildModule();
  if (!api.validate(bytes)) return compiled;
  compiled = { api, module: new api.Module(bytes) };
  return compiled;
}

/** True when this engine runs the WebAssembly kernel (every current Node and browser). */
export function ringKernelAvailable(): boolean {
  return compiledModule() !== null;
}

const PAGE = 65536;
const MAX_BYTES = 2 ** 31;

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/**
 * out = M[rows]ᵀ v over Z_2^64 with BigInt: the reference the kernel is tested against, and the
 * fallback without WebAssembly. `m` holds `cols`-wide rows; `v` one element per batch row.
 */
export function gatherMulTReference(m: Uint32Array, cols: number, rows: ArrayLike<number>, v: Uint32Array): Uint32Array {
  const acc = new Array<bigint>(cols).fill(0n);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const vi = ringElement(v, i);
    for (let j = 0; j < cols; j++) acc[j] = BigInt.asUintN(64, acc[j]! + ringElement(m, r * cols + j) * vi);
  }
  const out = ringZeros(cols);
  acc.forEach((x, j) => {
    out[2 * j] = Number(x & 0xffffffffn);
    out[2 * j + 1] = Number(x >> 32n);
  });
  return out;
}

/**
 * A ring matrix (rows × cols elements of Z_2^64, row-major) with the batched transposed product
 * M[batch]ᵀ v. The matrix lives in the kernel's memory, so a product copies only the batch.
 */
export class RingMatrix {
  /** Rows of the matrix. */
  readonly rows: number;
  /** Columns of the matrix. */
  readonly cols: number;
  /** Largest batch {@link RingMatrix.gatherMulT} accepts. */
  readonly maxBatch: number;
  /** The matrix words (2 per element), a view into the kernel's memory when it runs. */
  readonly words: Uint32Array;
  private readonly kernel: { readonly mul1: Accumulate; readonly mul4: Accumulate } | undefined;
  private readonly idx: Uint32Array;
  private readonly v: Uint32Array;
  private readonly out: Uint32Array;
  private readonly offsets: { readonly idx: number; readonly v: number; readonly out: number };

  /**
   * An all-zero matrix for batches of at most `maxBatch` rows.
   * @throws {ValidationError} on a non-positive or too large shape (the memory is limited to 2 GiB).
   */
  constructor(rows: number, cols: number, maxBatch: number) {
    for (const [name, value] of [['rows', rows], ['cols', cols], ['maxBatch', maxBatch]] as const) {
      if (!Number.isSafeInteger(value) || value < 0 || (name !== 'rows' && value < 1)) {
        throw new ValidationError(undefined, `RingMatrix: ${name} must be a ${name === 'rows' ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
      }
    }
    const matBytes = rows * cols * 8;
    const idxAt = align8(matBytes);
    const vAt = idxAt + align8(maxBatch * 4);
    const outAt = vAt + maxBatch * 8;
    const total = outAt + cols * 8;
    if (total > MAX_BYTES) throw new ValidationError(undefined, `RingMatrix: ${rows} × ${cols} needs ${total} bytes, above the 2 GiB limit`);
    this.rows = rows;
    this.cols = cols;
    this.maxBatch = maxBatch;
    this.offsets = { idx: idxAt, v: vAt, out: outAt };
    const wasm = compiledModule();
    let buffer: ArrayBuffer;
    if (wasm !== null) {
      const memory = new wasm.api.Memory({ initial: Math.max(1, Math.ceil(total / PAGE)) });
      const instance = new wasm.api.Instance(wasm.module, { env: { memory } });
      if (!hasKernel(instance.exports)) throw new EduFedError('INTERNAL', 'ring kernel: the WebAssembly module lacks mul1 or mul4');
      this.kernel = instance.exports;
      buffer = memory.buffer;
    } else {
      this.kernel = undefined;
      buffer = new ArrayBuffer(total);
    }
    this.words = new Uint32Array(buffer, 0, rows * cols * RING_WORDS);
    this.idx = new Uint32Array(buffer, idxAt, maxBatch);
    this.v = new Uint32Array(buffer, vAt, maxBatch * RING_WORDS);
    this.out = new Uint32Array(buffer, outAt, cols * RING_WORDS);
  }

  /**
   * out = Σ_i v_i · M[batch[i], ·] (mod 2^64), a new ring vector of `cols` elements.
   * @throws {ValidationError} when the batch is larger than `maxBatch`, `v` does not have one
   *   element per batch row, or a row index is outside the matrix.
   */
  gatherMulT(batch: ArrayLike<number>, v: Uint32Array): Uint32Array {
    const b = batch.length;
    if (b > this.maxBatch) throw new ValidationError(undefined, `RingMatrix: batch of ${b} rows exceeds maxBatch ${this.maxBatch}`);
    if (ringLength(v) !== b) throw new ValidationError(undefined, `RingMatrix: ${ringLength(v)} weights for a batch of ${b} rows`);
    for (let i = 0; i < b; i++) {
      const r = batch[i]!;
      if (!(Number.isInteger(r) && r >= 0 && r < this.rows)) {
        throw new ValidationError(undefined, `RingMatrix: batch row ${i} is ${String(r)}, outside [0, ${this.rows})`);
      }
      this.idx[i] = r;
    }
    if (this.kernel === undefined) return gatherMulTReference(this.words, this.cols, this.idx.subarray(0, b), v);
    this.v.set(v);
    this.out.fill(0);
    const b4 = b - (b % 4);
    const { idx, v: vAt, out } = this.offsets;
    if (b4 > 0) this.kernel.mul4(0, this.cols, idx, vAt, b4, out);
    if (b4 < b) this.kernel.mul1(0, this.cols, idx + 4 * b4, vAt + 8 * b4, b - b4, out);
    return this.out.slice();
  }

  /** Overwrites the matrix with zeros (to wipe masked data at the end of a job). */
  wipe(): void {
    this.words.fill(0);
  }
}
