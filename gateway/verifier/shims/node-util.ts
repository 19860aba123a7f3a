/** `node:util` for the browser verifier build: identity/ promisifies key generation at load time; never called there. */
export function promisify(fn: (...args: never[]) => unknown): (...args: unknown[]) => Promise<never> {
  return () => Promise.reject(new Error(`${fn.name || "this function"} is not available in the browser verifier`));
}
