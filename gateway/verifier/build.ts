/**
 * Builds the console's browser verifier (`/assets/verifier.js`) from the node's own code:
 * services/minutes/bundle.ts's `verifyMinutesBundle` and what it imports (identity/, ledger's
 * Merkle proofs, errors/, the generated protobuf-es code, jose, zod, node-forge), bundled by
 * esbuild into one ES module. One implementation, two platforms: the only substitutions are
 *  - `node:crypto` → shims/node-crypto.ts (SHA-256 and X.509 parsing by node-forge; public keys
 *    as JWKs that jose verifies with through WebCrypto), `node:util`, `node:net` → stubs;
 *  - `Buffer` → the `buffer` package; services/logging → a logger that drops everything;
 *  - `@grpc/grpc-js` → its status constants (services/errors maps codes to them).
 * Project modules are marked free of side effects so that esbuild keeps only what the verifier
 * reaches through the barrels; any other package or Node built-in that a kept module still
 * needs makes the build fail, naming it.
 *
 * Built in memory once per process, the first time the console asks for it (about a second).
 */
import { build, type Metafile, type Plugin } from "esbuild";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const NODE_MODULES = `${sep}node_modules${sep}`;
const SHIM = (name: string) => join(HERE, "shims", name);
const SHIMS: Record<string, string> = {
  "node:crypto": SHIM("node-crypto.ts"),
  crypto: SHIM("node-crypto.ts"),
  "node:util": SHIM("node-util.ts"),
  "node:net": SHIM("node-net.ts"),
};
const LOGGING = join(ROOT, "services", "logging", "index.ts");
/** The packages the verifier is made of. */
const BUNDLED = new Set(["jose", "zod", "node-forge", "@bufbuild/protobuf", "buffer"]);
const UNAVAILABLE = "liaison-unavailable";
const VIRTUAL = "liaison-virtual";

export interface BrowserVerifier {
  /** The ES module, minified. */
  code: Uint8Array;
  /** A strong HTTP entity tag of `code`. */
  etag: string;
  /** Project files compiled into it (relative to the repository), for the record. */
  sources: string[];
}

const packageName = (specifier: string) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");

function browserPlugin(): Plugin {
  const require = createRequire(import.meta.url);
  const grpcConstants = join(dirname(require.resolve("@grpc/grpc-js")), "constants.js");
  return {
    name: "liaison-browser-verifier",
    setup(b) {
      // Shims are reached through a CommonJS re-export, so that a module the verifier never runs
      // may import names a shim lacks (they are dropped with it; the differential test in
      // test/gateway/console.test.ts catches a name the verifier does use).
      const viaCommonJs = (path: string) => ({ path, namespace: VIRTUAL, sideEffects: false });
      b.onResolve({ filter: /^(node:)?(crypto|util|net)$/ }, (args) => (SHIMS[args.path] ? viaCommonJs(SHIMS[args.path]) : undefined));
      b.onLoad({ filter: /\.ts$/, namespace: VIRTUAL }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, resolveDir: ROOT, loader: "js" }));
      // node-forge's index loads all of forge (TLS, PKCS#12, ciphers…); the verifier parses X.509 and hashes.
      b.onResolve({ filter: /^node-forge$/ }, () => ({ path: "forge", namespace: VIRTUAL }));
      b.onLoad({ filter: /^forge$/, namespace: VIRTUAL }, () => ({
        contents: 'module.exports = require("node-forge/lib/forge"); require("node-forge/lib/x509"); require("node-forge/lib/sha256");',
        resolveDir: ROOT,
        loader: "js",
      }));
      b.onResolve({ filter: /^@grpc\/grpc-js$/ }, () => ({ path: "grpc-status", namespace: VIRTUAL }));
      b.onLoad({ filter: /^grpc-status$/, namespace: VIRTUAL }, () => ({
        contents: `export { Status as status } from ${JSON.stringify(grpcConstants)};`,
        resolveDir: ROOT,
        loader: "js",
      }));
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!args.importer || args.importer.includes(NODE_MODULES) || !args.importer.startsWith(ROOT) || isAbsolute(args.path)) return undefined;
        if (args.path.startsWith(".")) {
          const path = resolve(args.resolveDir, args.path);
          return path === LOGGING ? viaCommonJs(SHIM("logging.ts")) : { path, sideEffects: false };
        }
        if (BUNDLED.has(packageName(args.path))) return undefined;
        return { path: args.path, namespace: UNAVAILABLE, sideEffects: false };
      });
      b.onLoad({ filter: /.*/, namespace: UNAVAILABLE }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`${args.path} is not available in the browser verifier`)});`,
        loader: "js",
      }));
    },
  };
}

/** Builds the verifier now (no cache). */
export async function buildBrowserVerifier(): Promise<BrowserVerifier> {
  const result = await build({
    entryPoints: [join(HERE, "entry.ts")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    legalComments: "eof",
    metafile: true,
    logLevel: "silent",
    inject: [SHIM("buffer.ts")],
    define: { global: "globalThis" },
    plugins: [browserPlugin()],
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error("esbuild produced no verifier");
  const inputs = Object.keys(Object.values((result.metafile as Metafile).outputs)[0]?.inputs ?? {});
  const unavailable = inputs.filter((i) => i.startsWith(`${UNAVAILABLE}:`));
  if (unavailable.length) throw new Error(`the browser verifier would need ${unavailable.map((i) => i.slice(UNAVAILABLE.length + 1)).join(", ")}`);
  return {
    code: output.contents,
    etag: `"${createHash("sha256").update(output.contents).digest("base64url")}"`,
    sources: inputs.filter((i) => !i.includes("node_modules") && !i.includes(":")).map((i) => relative(ROOT, resolve(process.cwd(), i))),
  };
}

let built: Promise<BrowserVerifier> | undefined;

/** The verifier, built on first use and kept for the life of the process (a failed build is retried next time). */
export function browserVerifier(): Promise<BrowserVerifier> {
  built ??= buildBrowserVerifier().catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}
