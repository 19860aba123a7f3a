/**
 * The identity folder as backup records: public files (certificates, attestations, party and
 * partner files) and secret ones (private keys), written back with their modes.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { LiaisonError } from "../errors/index.ts";
import type { FileRecord } from "./format.ts";

/** A private key file: by name, or by content (a PEM private key under any name). */
export function isSecretFile(path: string, data: Buffer): boolean {
  return path.endsWith(".key") || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(data.toString("latin1"));
}

/** Every regular file under `dir`, split into public and secret records. Symlinks are refused. */
export function readIdentityFolder(dir: string): { publicFiles: FileRecord[]; secretFiles: FileRecord[] } {
  const publicFiles: FileRecord[] = [];
  const secretFiles: FileRecord[] = [];
  const walk = (folder: string) => {
    for (const name of readdirSync(folder).sort()) {
      const path = join(folder, name);
      const st = lstatSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.isFile()) {
        const data = readFileSync(path);
        const rel = relative(dir, path).split(sep).join("/");
        const record = { path: rel, mode: st.mode & 0o777, data: data.toString("base64") };
        (isSecretFile(rel, data) ? secretFiles : publicFiles).push(record);
      } else {
        throw new LiaisonError("INVALID_ARGUMENT", `identity folder: ${relative(dir, path)} is not a regular file or folder`);
      }
    }
  };
  try {
    walk(dir);
  } catch (error) {
    if (error instanceof LiaisonError) throw error;
    throw new LiaisonError("CONFIG_INVALID", `cannot read the identity folder ${dir}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`, { cause: error });
  }
  if (!publicFiles.some((f) => f.path === "party.json")) throw new LiaisonError("CONFIG_INVALID", `${dir} is not an identity folder (no party.json)`);
  return { publicFiles, secretFiles };
}

/** Write records under `dir`: folders 0700, secret files 0600 whatever was recorded. */
export function writeIdentityFiles(dir: string, records: readonly FileRecord[], secret: boolean): void {
  for (const r of records) {
    const path = join(dir, ...r.path.split("/"));
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const mode = secret ? 0o600 : r.mode & 0o644;
    writeFileSync(path, Buffer.from(r.data, "base64"), { mode, flag: "wx" });
    chmodSync(path, mode);
  }
}
