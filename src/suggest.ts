// Issue 18 polish: an unknown command or option names the closest known one. Loaded only on that
// error path (fastest-levenshtein on demand, as `pink fault` does for an unknown code).

/** The closest of `known` to `word`: a containing name first, else the smallest edit distance within a third of the length. */
export async function closest(word: string, known: readonly string[]): Promise<string | undefined> {
  const w = word.toLowerCase();
  if (w.length === 0) return undefined;
  const containing = known.filter((k) => k.includes(w) || (w.length >= 4 && w.includes(k) && k.replace(/^-+/, '').length >= 3));
  if (containing.length > 0) return containing.sort((a, b) => a.length - b.length)[0];
  const { distance } = await import('fastest-levenshtein');
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(w, k);
    if (best === undefined || d < best.d) best = { k, d };
  }
  return best !== undefined && best.d <= Math.max(1, Math.floor(w.length / 3)) ? best.k : undefined;
}

/** `--timeout <sec>` → `--timeout`; `-h, --help` → `--help`. */
export function longFlag(flags: string): string {
  const m = /--[a-z0-9-]+/i.exec(flags);
  return m ? m[0] : flags.split(/[ ,]/)[0]!;
}

/**
 * The fix line for commander's unknown-command / unknown-option error: "Did you mean X?" when one
 * is close, and the help to read.
 */
export async function suggestFix(message: string, argv: string[], commands: readonly { name: string; options: readonly { flags: string }[] }[], globalFlags: readonly string[]): Promise<string> {
  const base = 'See `pink --help`, or `pink COMMAND --help`.';
  const cmd = /unknown command '([^']+)'/.exec(message);
  if (cmd) {
    const hit = await closest(cmd[1]!, commands.map((c) => c.name));
    return hit ? `Did you mean \`pink ${hit}\`? ${base}` : base;
  }
  const opt = /unknown option '([^'=]+)/.exec(message);
  if (opt) {
    const name = argv.find((a) => !a.startsWith('-') && commands.some((c) => c.name === a));
    const spec = commands.find((c) => c.name === name);
    const flags = [...(spec ? spec.options.map((o) => longFlag(o.flags)) : []), ...globalFlags];
    const hit = await closest(opt[1]!, flags);
    return hit ? `Did you mean ${hit}? ${name ? `See \`pink ${name} --help\`.` : base}` : name ? `See \`pink ${name} --help\`.` : base;
  }
  return base;
}
