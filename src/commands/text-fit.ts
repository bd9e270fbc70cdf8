// Issue 18: operator text that fits an 80-column terminal (ditav2-status's tables and details).

/**
 * Issue 18: a table that fits the terminal (80 columns when not one): no box drawing, two spaces
 * between columns; columns dropped from the end of `optional` while it is too wide.
 */
export function fitTable(head: string[], rows: string[][], width: number, optional: string[]): string {
  let cols = head.map((_, i) => i);
  const widthOf = (idx: number[]): number => idx.reduce((a, i) => a + Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length)), 0) + 2 * (idx.length - 1);
  for (const name of [...optional].reverse()) {
    if (widthOf(cols) <= width) break;
    cols = cols.filter((i) => head[i] !== name);
  }
  const w = cols.map((i) => Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cols.map((i, k) => (k === cols.length - 1 ? cells[i]! : cells[i]!.padEnd(w[k]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

/** Word-wraps `text` to `width` with `indent` (continuations indented twice), at most `max` lines. */
export function wrap(text: string, width: number, indent: string, max: number): string[] {
  const out: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/).filter((x) => x)) {
    const sep = line.trim() === '' ? '' : ' ';
    if (line.length + sep.length + word.length > width && line.trim() !== '') {
      out.push(line);
      line = `${indent}${indent}${word}`;
    } else line += sep + word;
  }
  if (line.trim() !== '') out.push(line);
  if (out.length > max) return [...out.slice(0, max - 1), `${out[max - 1]!.slice(0, width - 1)}…`];
  return out.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
}

/** The terminal's width, or 80 (a pipe, a file). */
export const termWidth = (): number => (process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 80);
