/**
 * services/logging for the browser verifier build: modules create their logger at load time;
 * the verifier itself logs nothing (it throws LiaisonErrors), so a logger that drops everything.
 */
const drop = (): void => undefined;
const logger = { log: drop, error: drop, warn: drop, info: drop, debug: drop, child: () => logger };
export const createLogger = (): typeof logger => logger;
