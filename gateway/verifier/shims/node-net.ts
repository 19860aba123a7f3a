/** `node:net` for the browser verifier build: identity/pki.ts imports isIP for issuing certificates, which the verifier never does. */
export function isIP(): never {
  throw new Error("node:net isIP is not available in the browser verifier");
}
