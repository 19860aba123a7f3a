/**
 * Bit arithmetic on tree sizes and indices.
 *
 * JavaScript bitwise operators work on 32 bits; tree sizes and indices here are non-negative safe
 * integers (< 2^53), so each helper splits a number into a high and a low 32-bit half.
 * Pure: no I/O, no clock.
 */

const TWO32 = 2 ** 32;

/** Largest tree size this module accepts: indices must stay exact in a double. */
export const MAX_TREE_SIZE = Number.MAX_SAFE_INTEGER;

/** True when `x` is an integer in [0, 2^53). */
export function isTreeInt(x: number): boolean {
  return Number.isSafeInteger(x) && x >= 0;
}

/** Number of bits needed to write `x` (0 for 0). */
export function bitLength(x: number): number {
  if (x < TWO32) return 32 - Math.clz32(x);
  return 64 - Math.clz32(Math.floor(x / TWO32));
}

/** Number of trailing zero bits of `x`; requires x > 0. */
export function trailingZeros(x: number): number {
  const lo = x >>> 0;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  return 32 + trailingZeros(Math.floor(x / TWO32));
}

function popCount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Number of set bits of `x`. */
export function popCount(x: number): number {
  return popCount32(x >>> 0) + popCount32(Math.floor(x / TWO32) >>> 0);
}

/** a XOR b. */
export function xor(a: number, b: number): number {
  const hi = (Math.floor(a / TWO32) ^ Math.floor(b / TWO32)) >>> 0;
  const lo = ((a >>> 0) ^ (b >>> 0)) >>> 0;
  return hi * TWO32 + lo;
}

/** x >> k, for k >= 0. */
export function shr(x: number, k: number): number {
  return Math.floor(x / 2 ** k);
}

/** Bit `i` of `x` (0 or 1). */
export function bit(x: number, i: number): number {
  return Math.floor(x / 2 ** i) % 2;
}
