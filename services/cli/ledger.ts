/**
 * `liaison ledger …` and `liaison views …`: auditing the node's ledger from the command line.
 */
import type { Command } from "commander";

export function registerLedgerCommands(_program: Command): void {
  // Filled by the ledger commands.
}
