/**
 * WebAssembly SIMD kernel behind {@link weightedAverage} for large parameter vectors.
 *
 * Why WebAssembly: a scalar JavaScript loop tops out at roughly a quarter of memory-copy bandwidth
 * (V8 does not vectorise it), while 128-bit SIMD makes the arithmetic almost free, so the cost is
 * dominated by copying each update's block into the module's memory (which runs at `memcpy` speed).
 * The module is a few hundred bytes, assembled below from named opcodes so it can be reviewed; its
 * text form is:
 *
 * ```wat
 * (module
 *   (memory (export "memory") PAGES)
 *   ;; acc[i] += (w0*s0[i] + w1*s1[i]) + (w2*s2[i] + w3*s3[i])   for i < nBytes/4, 4 lanes at a time;
 *   ;; s_k hold f32, acc holds f64 (acc byte address = acc + 2 * f32 byte offset).
 *   (func (export "wsum4") (param $acc i32) (param $s0 i32) (param $s1 i32) (param $s2 i32)
 *       (param $s3 i32) (param $nBytes i32) (param $w0 f32) (param $w1 f32) (param $w2 f32) (param $w3 f32)
 *     (local $i i32) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
 *     (local $sum v128) (local $a i32)
 *     (local.set $v0 (f32x4.splat (local.get $w0)))  ...same for v1..v3
 *     (block $done (loop $next
 *       (br_if $done (i32.eqz (i32.lt_u (local.get $i) (local.get $nBytes))))
 *       (local.set $sum (f32x4.add
 *         (f32x4.add (f32x4.mul (local.get $v0) (v128.load (i32.add (local.get $s0) (local.get $i))))
 *                    (f32x4.mul (local.get $v1) (v128.load (i32.add (local.get $s1) (local.get $i)))))
 *         (f32x4.add (f32x4.mul (local.get $v2) (v128.load (i32.add (local.get $s2) (local.get $i))))
 *                    (f32x4.mul (local.get $v3) (v128.load (i32.add (local.get $s3) (local.get $i)))))))
 *       (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $i) (i32.const 1))))
 *       (v128.store offset=0 (local.get $a)
 *         (f64x2.add (v128.load offset=0 (local.get $a)) (f64x2.promote_low_f32x4 (local.get $sum))))
 *       (v128.store offset=16 (local.get $a)
 *         (f64x2.add (v128.load offset=16 (local.get $a))
 *                    (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
 *                                                (local.get $sum) (local.get $sum)))))
 *       (local.set $i (i32.add (local.get $i) (i32.const 16)))
 *       (br $next)))))
 * ```
 *
 * Precision: each product and each 4-update partial sum is rounded to float32 (at most a few ulp of
 * the partial sum's magnitude); partial sums are accumulated in float64, so the error does not grow
 * with the number of updates; the result is rounded to float32 once.
 */

import {
  BLOCK, br, brIf, END, get, I32_ADD, I32_EQZ, I32_LT_U, I32_SHL, i32Const, LOOP, section, set, T_F32, T_I32, T_V128, tee, uleb, utf8Name, WASM_HEADER,
} from '../core/wasm-encoding.js';

/** Elements per block: 28 bytes of module memory per element, about 224 KiB, sized to stay in L2. */
export const SIMD_BLOCK = 8192;

const ACC_OFFSET = 0; // SIMD_BLOCK float64
const SLOT_OFFSET = SIMD_BLOCK * 8; // four slots of SIMD_BLOCK float32
const ZERO_OFFSET = SLOT_OFFSET + 4 * SIMD_BLOCK * 4; // one never-written slot of zeros
const MEMORY_BYTES = ZERO_OFFSET + SIMD_BLOCK * 4;
const PAGES = Math.ceil(MEMORY_BYTES / 65536);

// --- the SIMD instructions of the one function above (the shared encoder is core/wasm-encoding.ts) ---

const simd = (op: number): number[] => [0xfd, ...uleb(op)];
/** memarg: alignment exponent 4 (16 bytes, a hint only) and a constant offset. */
const v128Load = (offset: number): number[] => [...simd(0x00), 4, ...uleb(offset)];
const v128Store = (offset: number): number[] => [...simd(0x0b), 4, ...uleb(offset)];
const F32X4_SPLAT = simd(0x13);
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);
const F64X2_ADD = simd(0xf0);
const F64X2_PROMOTE_LOW_F32X4 = simd(0x5f);
const SHUFFLE_HIGH_TO_LOW = [...simd(0x0d), 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];

function buildModule(): Uint8Array {
  // Parameter and local indices, as in the text form.
  const [acc, s0, s1, s2, s3, nBytes, w0, w1, w2, w3] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [i, v0, v1, v2, v3, sum, a] = [10, 11, 12, 13, 14, 15, 16];
  const term = (v: number, s: number): number[] => [...get(v), ...get(s), ...get(i), ...I32_ADD, ...v128Load(0), ...F32X4_MUL];
  const body = [
    ...get(w0), ...F32X4_SPLAT, ...set(v0),
    ...get(w1), ...F32X4_SPLAT, ...set(v1),
    ...get(w2), ...F32X4_SPLAT, ...set(v2),
    ...get(w3), ...F32X4_SPLAT, ...set(v3),
    ...BLOCK, ...LOOP,
    ...get(i), ...get(nBytes), ...I32_LT_U, ...I32_EQZ, ...brIf(1),
    ...term(v0, s0), ...term(v1, s1), ...F32X4_ADD,
    ...term(v2, s2), ...term(v3, s3), ...F32X4_ADD,
    ...F32X4_ADD, ...set(sum),
    ...get(acc), ...get(i), ...i32Const(1), ...I32_SHL, ...I32_ADD, ...tee(a),
    ...get(a), ...v128Load(0), ...get(sum), ...F64X2_PROMOTE_LOW_F32X4, ...F64X2_ADD, ...v128Store(0),
    ...get(a), ...get(a), ...v128Load(16), ...get(sum), ...get(sum), ...SHUFFLE_HIGH_TO_LOW,
    ...F64X2_PROMOTE_LOW_F32X4, ...F64X2_ADD, ...v128Store(16),
    ...get(i), ...i32Const(16), ...I32_ADD, ...set(i),
    ...br(0), ...END, ...END,
    ...END,
  ];
  // Local declarations: 1 × i32 ($i), 5 × v128 ($v0..$v3, $sum), 1 × i32 ($a).
  const func = [3, 1, T_I32, 5, T_V128, 1, T_I32, ...body];
  return new Uint8Array([
    ...WASM_HEADER,
    ...section(1, [1, 0x60, 10, T_I32, T_I32, T_I32, T_I32, T_I32, T_I32, T_F32, T_F32, T_F32, T_F32, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, ...uleb(PAGES)]),
    ...section(7, [2, ...utf8Name('memory'), 0x02, 0, ...utf8Name('wsum4'), 0x00, 0]),
    ...section(10, [1, ...uleb(func.length), ...func]),
  ]);
}

// --- loading, without assuming the WebAssembly global exists or its typings are present --------

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: unknown };
}

interface KernelExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  readonly wsum4: (
    acc: number, s0: number, s1: number, s2: number, s3: number, nBytes: number,
    w0: number, w1: number, w2: number, w3: number,
  ) => void;
}

function isWasmApi(x: unknown): x is WasmApi {
  return (
    typeof x === 'object' && x !== null &&
    'validate' in x && typeof x.validate === 'function' &&
    'Module' in x && typeof x.Module === 'function' &&
    'Instance' in x && typeof x.Instance === 'function'
  );
}

function isKernelExports(x: unknown): x is KernelExports {
  return (
    typeof x === 'object' && x !== null &&
    'wsum4' in x && typeof x.wsum4 === 'function' &&
    'memory' in x && typeof x.memory === 'object' && x.memory !== null &&
    'buffer' in x.memory && x.memory.buffer instanceof ArrayBuffer
  );
}

interface Kernel {
  readonly wsum4: KernelExports['wsum4'];
  readonly f32: Float32Array;
  readonly f64: Float64Array;
}

let kernel: Kernel | null | undefined;

function loadKernel(): Kernel | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  const api: unknown = Reflect.get(globalThis, 'WebAssembly');
  if (!isWasmApi(api)) return kernel;
  const bytes = buildModule();
  // validate() is false on engines without SIMD; the scalar path is then used.
  if (!api.validate(bytes)) return kernel;
  const { exports } = new api.Instance(new api.Module(bytes));
  if (!isKernelExports(exports)) return kernel;
  // The memory never grows, so these views stay attached.
  kernel = {
    wsum4: exports.wsum4,
    f32: new Float32Array(exports.memory.buffer),
    f64: new Float64Array(exports.memory.buffer),
  };
  return kernel;
}

/** True when this engine runs the WebAssembly SIMD kernel (Node ≥ 16.4, current browsers). */
export function simdAvailable(): boolean {
  return loadKernel() !== null;
}

/**
 * out[i] = Σ_k coeffs[k] · params[k][i], computed blockwise with the SIMD kernel.
 * All inputs of a block are read before its output is written, so `out` may alias an input.
 * Preconditions (checked by the caller): equal lengths, finite coefficients, SIMD available.
 * @returns false (and leaves `out` untouched) when SIMD is unavailable.
 */
export function simdWeightedSum(params: readonly Float32Array[], coeffs: Float64Array, out: Float32Array): boolean {
  const kern = loadKernel();
  if (kern === null) return false;
  const { wsum4, f32, f64 } = kern;
  const n = out.length;
  const count = params.length;
  const slotBytes = SIMD_BLOCK * 4;
  // Per group of four updates: the slot each is copied to and its coefficient. Unused lanes of the
  // last group read the zero slot with coefficient 0, so no stale value (or Inf) leaks in.
  const groups = Math.ceil(count / 4);
  const addr = new Int32Array(groups * 4).fill(ZERO_OFFSET);
  const w = new Float32Array(groups * 4);
  for (let k = 0; k < count; k++) {
    addr[k] = SLOT_OFFSET + (k % 4) * slotBytes;
    w[k] = coeffs[k] as number;
  }
  const acc0 = ACC_OFFSET / 8;
  for (let start = 0; start < n; start += SIMD_BLOCK) {
    const end = Math.min(n, start + SIMD_BLOCK);
    const len = end - start;
    // Whole 16-byte vectors; lanes past `len` read stale slot data into acc cells never read back.
    const nBytes = ((len + 3) & ~3) * 4;
    f64.fill(0, acc0, acc0 + len);
    for (let g = 0, k = 0; g < groups; g++) {
      for (let j = 0; j < 4 && k < count; j++, k++) {
        f32.set((params[k] as Float32Array).subarray(start, end), (SLOT_OFFSET + j * slotBytes) / 4);
      }
      const q = g * 4;
      wsum4(ACC_OFFSET, addr[q] as number, addr[q + 1] as number, addr[q + 2] as number, addr[q + 3] as number,
        nBytes, w[q] as number, w[q + 1] as number, w[q + 2] as number, w[q + 3] as number);
    }
    for (let i = 0; i < len; i++) out[start + i] = f64[acc0 + i] as number;
  }
  return true;
}
