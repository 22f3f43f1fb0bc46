// Plain aligned text tables for the terminal (no colours: the output is often piped or logged).

export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Wall-clock time when the device had it, otherwise uptime since that boot. */
export function formatWhen(time: string | null, uptimeMs: number): string {
  if (time) return time.replace("T", " ").replace(/\.\d+Z$/, "Z");
  return `+${(uptimeMs / 1000).toFixed(1)}s`;
}
