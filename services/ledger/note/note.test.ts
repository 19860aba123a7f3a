import assert from "node:assert/strict";
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign as edSign, verify as edVerify } from "node:crypto";
import { describe, it } from "node:test";
import { LiaisonError } from "../../errors/index.ts";
import {
  addSignatures,
  cosignCheckpoint,
  cosignatureV1Timestamp,
  cosignatureV1Verifier,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  formatCheckpoint,
  formatVerifierKey,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseNote,
  parseNoteVerifierKey,
  signCheckpoint,
  signNote,
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
} from "./index.ts";

const code = (c: string) => (e: unknown) => e instanceof LiaisonError && e.code === c;

/** An Ed25519 private key from a 32-byte RFC 8032 seed (PKCS#8 wrapping, RFC 8410). */
function keyFromSeed(seed: Uint8Array): KeyObject {
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
}

function newKey(): KeyObject {
  return generateKeyPairSync("ed25519").privateKey;
}

describe("signed note: published examples", () => {
  // c2sp.org/signed-note, §Verifier keys, Example.
  it("verifies the signed-note spec example with its verifier key", () => {
    const v = parseNoteVerifierKey("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
    const note =
      "This is an example message.\n\n" +
      "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    const opened = openNote(note, [v]);
    assert.equal(opened.text, "This is an example message.\n");
    assert.equal(opened.verified.length, 1);
    assert.equal(opened.verified[0].keyId, 0x530d903a);
  });

  // golang.org/x/mod/sumdb/note note_test.go (BSD-3-Clause, The Go Authors): the PeterNeumann key.
  const GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
  const GO_SKEY_SEED = Buffer.from("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "base64").subarray(1);
  const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
  const GO_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

  it("verifies the Go reference note (PeterNeumann) with its verifier key", () => {
    const opened = openNote(`${GO_TEXT}\n${GO_SIG}`, [parseNoteVerifierKey(GO_VKEY)]);
    assert.equal(opened.text, GO_TEXT);
  });

  it("signs the Go reference text to exactly the Go reference note", () => {
    const signer = ed25519NoteSigner("PeterNeumann", keyFromSeed(GO_SKEY_SEED));
    assert.equal(signer.keyId, 0xc74f20a3);
    assert.equal(signNote(GO_TEXT, [signer]), `${GO_TEXT}\n${GO_SIG}`);
    assert.equal(formatVerifierKey("PeterNeumann", SIGNATURE_TYPE_ED25519, keyFromSeed(GO_SKEY_SEED)), GO_VKEY);
  });

  it("rejects mangled verifier keys", () => {
    for (const k of [
      "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
      "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
      "PeterNeumann+c74f20a3+AnBjMkMUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
      "PeterNeumann c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
      "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
      "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ]) {
      assert.throws(() => parseNoteVerifierKey(k), code("CONFIG_INVALID"), k);
    }
  });
});

describe("signed note: the MUST rules", () => {
  const key = newKey();
  const signer = ed25519NoteSigner("liaison.example/vn-mps", key);
  const verifier = ed25519NoteVerifier("liaison.example/vn-mps", key);
  const text = "line one\n\nline three after an empty line\n";
  const note = signNote(text, [signer]);

  it("splits text from signatures at the last empty line", () => {
    assert.equal(openNote(note, [verifier]).text, text);
  });

  it("ignores signatures from unknown keys, even sharing the name or the key ID of a known key", () => {
    const other = newKey();
    const sameName = ed25519NoteSigner("liaison.example/vn-mps", other);
    const sig = parseNote(note).signatures[0];
    const withExtra = addSignatures(note, [
      { name: "liaison.example/vn-mps", keyId: sameName.keyId, signature: sameName.sign(Buffer.from(text)) },
      { name: "someone.else", keyId: sig.keyId, signature: new Uint8Array(64) },
    ]);
    const opened = openNote(withExtra, [verifier]);
    assert.equal(opened.verified.length, 1);
    assert.equal(opened.unverified.length, 2);
  });

  it("rejects the whole note when a known key's signature fails", () => {
    const sig = parseNote(note).signatures[0];
    const bad = Uint8Array.from(sig.signature);
    bad[10] ^= 1;
    assert.throws(() => openNote(addSignatures(note, [{ ...sig, signature: bad }]), [verifier]), code("SIGNATURE_INVALID"));
  });

  it("rejects a note that no known key signed", () => {
    assert.throws(() => openNote(note, [ed25519NoteVerifier("liaison.example/vn-mps", newKey())]), code("KEY_UNKNOWN"));
  });

  it("accepts at least 16 signatures and refuses more than 100", () => {
    const extra = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `w${i}.example`, keyId: i, signature: new Uint8Array(72) }));
    assert.equal(openNote(addSignatures(note, extra(15)), [verifier]).unverified.length, 15);
    assert.throws(() => openNote(addSignatures(note, extra(100)), [verifier]), code("CHECKPOINT_INVALID"));
  });

  it("refuses malformed notes with CHECKPOINT_INVALID", () => {
    const sigLine = note.slice(text.length + 1);
    const cases: Record<string, string | Uint8Array> = {
      "no blank line": `${text}${sigLine}`,
      "no signatures": `${text}\n`,
      "signature block without final newline": `${text}\n${sigLine.slice(0, -1)}`,
      "hyphen instead of em dash": `${text}\n${sigLine.replace("—", "-")}`,
      "name with a plus": `${text}\n${sigLine.replace("vn-mps", "vn+mps")}`,
      "name with a no-break space": `${text}\n${sigLine.replace("vn-mps", "vn\u00a0mps")}`,
      "non-canonical base64": `${text}\n${sigLine.replace("=\n", "\n")}`,
      "tab in the text": `line\tone\n\n${sigLine}`,
      "carriage return": `line one\r\n\n${sigLine}`,
      "invalid UTF-8": Buffer.concat([Buffer.from("caf"), Buffer.from([0xc3]), Buffer.from(`\n\n${sigLine}`)]),
      "lone surrogate": `caf\ud800\n\n${sigLine}`,
      "too short signature": `${text}\n— liaison.example/vn-mps AAAAAA==\n`,
    };
    for (const [name, n] of Object.entries(cases)) {
      assert.throws(() => openNote(n, [verifier]), code("CHECKPOINT_INVALID"), name);
    }
  });
});

describe("checkpoint body (c2sp.org/tlog-checkpoint)", () => {
  const root = createHash("sha256").update("root").digest();

  it("parses the spec's example checkpoint", () => {
    const note =
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n" +
      "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
    const parsed = parseNote(note);
    const cp = parseCheckpoint(parsed.text);
    assert.equal(cp.origin, "example.com/behind-the-sofa");
    assert.equal(cp.size, 20852163);
    assert.equal(Buffer.from(cp.rootHash).toString("base64"), "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
    assert.equal(formatCheckpoint(cp), parsed.text);
  });

  it("formats origin, size and base64 root, each ending in a newline, then extension lines", () => {
    const cp = { origin: "liaison.example/VN-MPS", size: 42, rootHash: root, extensions: ["ext one"] };
    assert.equal(formatCheckpoint(cp), `liaison.example/VN-MPS\n42\n${root.toString("base64")}\next one\n`);
    assert.deepEqual(parseCheckpoint(formatCheckpoint(cp)), { ...cp, rootHash: Uint8Array.from(root) });
  });

  it("refuses sizes with leading zeroes, empty extension lines and short roots", () => {
    const r = root.toString("base64");
    for (const t of [`o\n042\n${r}\n`, `o\n-1\n${r}\n`, `o\n1\n${r}\n\n`, `o\n1\n${r}\nx\n\n`, `o\n1\nAAAA\n`, `o\n1\n${r}`, `\n1\n${r}\n`, `o\n1e3\n${r}\n`, "o\n1\n"]) {
      assert.throws(() => parseCheckpoint(t), code("CHECKPOINT_INVALID"), JSON.stringify(t));
    }
    assert.equal(parseCheckpoint(`o\n0\n${r}\n`).size, 0);
  });

  it("opens a signed checkpoint only for the expected origin", () => {
    const key = newKey();
    const note = signCheckpoint({ origin: "liaison.example/VN-MPS", size: 7, rootHash: root, extensions: [] }, ed25519NoteSigner("liaison.example/VN-MPS", key));
    const v = ed25519NoteVerifier("liaison.example/VN-MPS", key);
    assert.equal(openCheckpoint(note, "liaison.example/VN-MPS", [v]).checkpoint.size, 7);
    assert.throws(() => openCheckpoint(note, "liaison.example/CN-MPS", [v]), code("CHECKPOINT_INVALID"));
  });
});

describe("cosignature/v1 (c2sp.org/tlog-cosignature)", () => {
  it("reads the timestamp 1679315147 from the spec's example witness line", () => {
    const note =
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n" +
      "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n" +
      "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
    const w = parseNote(note).signatures[1];
    assert.equal(w.name, "witness.example.com/w1");
    assert.equal(cosignatureV1Timestamp(w), 1679315147);
  });

  it("verifies a cosignature whose signature has a flipped bit as invalid", () => {
    const log = newKey();
    const witness = newKey();
    const note = signCheckpoint({ origin: "log.example", size: 3, rootHash: new Uint8Array(32), extensions: [] }, ed25519NoteSigner("log.example", log));
    const text = parseNote(note).text;
    const line = cosignCheckpoint(text, "witness.example/w1", witness, 1_700_000_000);
    const full = note + line;
    const wv = cosignatureV1Verifier("witness.example/w1", witness);
    assert.equal(openNote(full, [wv]).verified[0].name, "witness.example/w1");
    const sig = parseNote(full).signatures[1];
    const bad = Uint8Array.from(sig.signature);
    bad[3] ^= 0x01; // the timestamp: the signed message changes
    assert.throws(() => openNote(addSignatures(note, [{ ...sig, signature: bad }]), [wv]), code("SIGNATURE_INVALID"));
  });
});

describe("independent mini-implementation written from the spec text", () => {
  // Everything in this block uses only node:crypto and the C2SP prose; nothing from ./index.ts.
  const spec = {
    keyId(name: string, type: number, pub: Uint8Array): Buffer {
      return createHash("sha256").update(Buffer.concat([Buffer.from(name), Buffer.from([0x0a, type]), pub])).digest().subarray(0, 4);
    },
    rawPublic(key: KeyObject): Buffer {
      const spki = createPublicKey(key).export({ format: "der", type: "spki" }); // 12-byte header + 32-byte key
      return spki.subarray(spki.length - 32);
    },
    checkpointText(origin: string, size: number, root: Uint8Array): string {
      return `${origin}\n${size}\n${Buffer.from(root).toString("base64")}\n`;
    },
    sigLine(name: string, blob: Buffer): string {
      return `\u2014 ${name} ${blob.toString("base64")}\n`;
    },
  };
  const root = createHash("sha256").update("tree").digest();

  it("produces exactly the checkpoint note our module produces, and opens ours", () => {
    const log = newKey();
    const text = spec.checkpointText("liaison.example/KH-MOI", 1234, root);
    const sig = edSign(null, Buffer.from(text), log);
    const theirs = `${text}\n${spec.sigLine("liaison.example/KH-MOI", Buffer.concat([spec.keyId("liaison.example/KH-MOI", 0x01, spec.rawPublic(log)), sig]))}`;
    const ours = signCheckpoint({ origin: "liaison.example/KH-MOI", size: 1234, rootHash: root, extensions: [] }, ed25519NoteSigner("liaison.example/KH-MOI", log));
    assert.equal(ours, theirs); // Ed25519 is deterministic
    const opened = openCheckpoint(theirs, "liaison.example/KH-MOI", [ed25519NoteVerifier("liaison.example/KH-MOI", log)]);
    assert.equal(opened.checkpoint.size, 1234);
  });

  it("verifies our cosignature/v1 line byte by byte, and our verifier accepts theirs", () => {
    const witness = newKey();
    const pub = spec.rawPublic(witness);
    const text = spec.checkpointText("liaison.example/VN-MPS", 99, root);
    const t = 1_712_345_678;

    // Ours, checked by the spec reading.
    const ourLine = cosignCheckpoint(text, "liaison.example/CN-MPS", witness, t);
    const m = /^\u2014 (\S+) (\S+)\n$/.exec(ourLine);
    assert.ok(m, "one signature line");
    assert.equal(m[1], "liaison.example/CN-MPS");
    const blob = Buffer.from(m[2], "base64");
    assert.equal(blob.length, 4 + 8 + 64);
    assert.deepEqual(blob.subarray(0, 4), spec.keyId("liaison.example/CN-MPS", 0x04, pub));
    assert.equal(blob.readBigUInt64BE(4), BigInt(t));
    const message = Buffer.from(`cosignature/v1\ntime ${t}\n${text}`);
    assert.ok(edVerify(null, message, witness, blob.subarray(12)));

    // Theirs, checked by our verifier.
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(BigInt(t + 1));
    const theirSig = edSign(null, Buffer.from(`cosignature/v1\ntime ${t + 1}\n${text}`), witness);
    const theirLine = spec.sigLine("liaison.example/CN-MPS", Buffer.concat([spec.keyId("liaison.example/CN-MPS", 0x04, pub), ts, theirSig]));
    const logLine = spec.sigLine("liaison.example/VN-MPS", Buffer.alloc(68));
    const opened = openNote(`${text}\n${logLine}${theirLine}`, [cosignatureV1Verifier("liaison.example/CN-MPS", witness)]);
    assert.equal(cosignatureV1Timestamp(opened.verified[0]), t + 1);

    // The vkey of a cosigner carries type 0x04.
    const vkey = formatVerifierKey("liaison.example/CN-MPS", SIGNATURE_TYPE_COSIGNATURE_V1, witness);
    assert.equal(vkey, `liaison.example/CN-MPS+${spec.keyId("liaison.example/CN-MPS", 0x04, pub).toString("hex")}+${Buffer.concat([Buffer.from([0x04]), pub]).toString("base64")}`);
    assert.equal(openNote(`${text}\n${theirLine}`, [parseNoteVerifierKey(vkey)]).verified.length, 1);
  });

  it("does not accept a plain Ed25519 note signature as a cosignature of the same key", () => {
    const witness = newKey();
    const text = spec.checkpointText("o.example", 1, root);
    const plain = spec.sigLine("w.example", Buffer.concat([spec.keyId("w.example", 0x04, spec.rawPublic(witness)), Buffer.alloc(8), edSign(null, Buffer.from(text), witness)]));
    assert.throws(() => openNote(`${text}\n${plain}`, [cosignatureV1Verifier("w.example", witness)]), code("SIGNATURE_INVALID"));
  });
});
