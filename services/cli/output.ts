/**
 * What the CLI prints for its operator: results on stdout, problems on stderr. Logs go through
 * winston (to stderr) and never through here; nothing secret is ever passed to these functions.
 */
export function print(line = ""): void {
  process.stdout.write(line + "\n");
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

export function printError(line: string): void {
  process.stderr.write(line + "\n");
}

/** Render a list of rows as aligned columns. */
export function printTable(rows: readonly (readonly string[])[]): void {
  if (rows.length === 0) return;
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  for (const row of rows) print(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}
