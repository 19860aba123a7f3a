/**
 * `npm run bench [-- NAME…]`: runs the named benchmarks (default: all) one after another and
 * prints their figures. Each benchmark prints its own table; progress goes to stderr.
 */
const BENCHES: Record<string, () => Promise<void>> = {
  delivery: async () => (await import("./delivery.ts")).benchDelivery(),
  store: async () => (await import("./store.ts")).benchStore(),
  ledger: async () => (await import("./ledger.ts")).benchLedger(),
  exchange: async () => (await import("./exchange.ts")).benchExchange(),
  gateway: async () => (await import("./gateway.ts")).benchGateway(),
  load: async () => {
    await (await import("./load.ts")).benchLoad();
  },
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
for (const name of names) {
  const bench = BENCHES[name];
  if (!bench) {
    process.stderr.write(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(", ")}\n`);
    process.exit(2);
  }
  process.stdout.write(`\n== ${name} ==\n`);
  await bench();
}
process.exit(0);
