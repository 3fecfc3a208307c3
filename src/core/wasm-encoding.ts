/**
 * A minimal encoder for hand-assembled WebAssembly modules (binary format of the WebAssembly 1.0
 * core specification, plus the SIMD prefix): LEB128 integers, sections, names, value types and
 * the instructions EduFed's kernels share. Each kernel keeps its own specialised opcodes.
 */

/** The module preamble: magic `\0asm` and version 1. */
export const WASM_HEADER: readonly number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** Unsigned LEB128 of a uint32. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of an int32. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A section: its id, then its body's length and the body. */
export function section(id: number, body: readonly number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** A name (import, export): its UTF-8 length, then its bytes. */
export function utf8Name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

export const T_I32 = 0x7f;
export const T_I64 = 0x7e;
export const T_F32 = 0x7d;
export const T_V128 = 0x7b;

/** local.get / local.set / local.tee of a local index below 128. */
export const get = (i: number): number[] => [0x20, i];
export const set = (i: number): number[] => [0x21, i];
export const tee = (i: number): number[] => [0x22, i];
/** i32.const. */
export const i32Const = (n: number): number[] => [0x41, ...sleb(n)];
export const I32_ADD = [0x6a];
export const I32_MUL = [0x6c];
export const I32_SHL = [0x74];
export const I32_EQZ = [0x45];
export const I32_LT_U = [0x49];
export const I32_GE_U = [0x4f];
export const I64_ADD = [0x7c];
export const I64_MUL = [0x7e];
/** block / loop with an empty result type, and their end. */
export const BLOCK = [0x02, 0x40];
export const LOOP = [0x03, 0x40];
export const END = [0x0b];
export const brIf = (depth: number): number[] => [0x0d, depth];
export const br = (depth: number): number[] => [0x0c, depth];
