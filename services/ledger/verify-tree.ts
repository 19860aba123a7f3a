/**
 * The tree recomputation behind `verifyLedger`: RFC 9162 §2.1.1 hashing exactly as
 * merkle/hasher.ts defines it (leaf SHA-256(0x00 || entry), node SHA-256(0x01 || left || right)),
 * growing the frontier one leaf at a time as merkle/compact.ts `appendLeaves` does, but with every
 * hash held as a 32-character latin1 string. A string digest is a small heap object, where a
 * Buffer digest is an off-heap allocation the garbage collector tracks: over a million entries
 * that halves the cost of hashing, which is most of the verifier's own work. Every node it
 * produces is compared with the stored one, and the roots at checkpoints and at the head are
 * computed by merkle's own functions from this frontier (`toFrontier`); the unit tests check it
 * against `appendLeaves` node for node.
 *
 * Pure: no I/O, no clock.
 */
import * as crypto from "node:crypto";
import { type Frontier, HASH_SIZE, hashLeaf, LEAF_PREFIX, NODE_PREFIX } from "./merkle/index.ts";

const oneShot = typeof crypto.hash === "function" ? crypto.hash : undefined;

function sha256Latin1(data: Uint8Array): string {
  // "binary" is Node's name for latin1: one character per byte.
  return oneShot ? oneShot("sha256", data, "binary") : crypto.createHash("sha256").update(data).digest("binary");
}

/**
 * The leaf hash of the `len` bytes at `at` in `buf`, as a latin1 string. When the byte before
 * them is the 0x00 leaf prefix, as in a BSON binary of subtype 0 (its subtype byte precedes the
 * data), they are hashed where they lie; otherwise through `hashLeaf`.
 */
export function leafHashAt(buf: Uint8Array, at: number, len: number): string {
  if (at >= 1 && buf[at - 1] === LEAF_PREFIX) return sha256Latin1(new Uint8Array(buf.buffer, buf.byteOffset + at - 1, len + 1));
  return Buffer.from(hashLeaf(new Uint8Array(buf.buffer, buf.byteOffset + at, len))).toString("latin1");
}

/** True when the `len` bytes at `at` in `buf` are the hash `h` (a latin1 string). */
export function hashEquals(buf: Uint8Array, at: number, len: number, h: string): boolean {
  if (len !== HASH_SIZE || h.length !== HASH_SIZE) return false;
  for (let i = 0; i < HASH_SIZE; i++) if (buf[at + i] !== h.charCodeAt(i)) return false;
  return true;
}

/** A latin1 hash string as bytes. */
export function hashBytes(h: string): Uint8Array {
  return Buffer.from(h, "latin1");
}

/**
 * The frontier of a growing tree, one leaf at a time:
 *
 *   tree.begin(leaf);
 *   while (tree.up()) check(tree.level, tree.index, tree.hash);   // each new perfect node, lowest first
 *   tree.end();
 */
export class StringFrontier {
  /** Leaves appended so far (after `end`). */
  size = 0;
  /** The node `up` last produced (during `begin`..`end`). */
  level = 0;
  index = 0;
  hash = "";
  private readonly stack: string[] = [];
  private readonly input = Buffer.allocUnsafe(1 + 2 * HASH_SIZE);

  constructor() {
    this.input[0] = NODE_PREFIX;
  }

  /** Starts appending the leaf whose hash is `leaf`. */
  begin(leaf: string): void {
    this.level = 0;
    this.index = this.size;
    this.hash = leaf;
  }

  /** Completes the next perfect node above the leaf being appended, if there is one. */
  up(): boolean {
    if (this.index % 2 === 0) return false;
    const left = this.stack.pop();
    if (left === undefined) throw new TypeError("frontier is shorter than its size implies");
    this.input.write(left, 1, HASH_SIZE, "latin1");
    this.input.write(this.hash, 1 + HASH_SIZE, HASH_SIZE, "latin1");
    this.hash = sha256Latin1(this.input);
    this.index = (this.index - 1) / 2;
    this.level++;
    return true;
  }

  /** Finishes appending the leaf (call after `up` returned false). */
  end(): void {
    this.stack.push(this.hash);
    this.size++;
  }

  /** The frontier in merkle's form (for its root functions). */
  toFrontier(): Frontier {
    return { size: this.size, hashes: this.stack.map(hashBytes) };
  }
}
