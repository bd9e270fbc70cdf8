// A small seeded generator (sfc32, seeded through splitmix32) whose whole state is four
// numbers, so it can be persisted with the simulator and resumed exactly after a restart.
// Math.random is never used by the simulator: one seed reproduces a run.

export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a: a stable number per symbol, so each symbol has its own stream for one seed. */
export function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function seedRng(seed: number, stream: string): RngState {
  const next = splitmix32((seed >>> 0) ^ hashText(stream));
  const state: RngState = [next(), next(), next(), next()];
  // Warm up: the first outputs of sfc32 from close seeds are correlated.
  for (let i = 0; i < 12; i++) nextUint32(state);
  return state;
}

/** Advances `state` in place and returns a uint32. */
export function nextUint32(state: RngState): number {
  let [a, b, c, d] = state;
  const t = (((a + b) >>> 0) + d) >>> 0;
  d = (d + 1) >>> 0;
  a = b ^ (b >>> 9);
  b = (c + (c << 3)) >>> 0;
  c = ((c << 21) | (c >>> 11)) >>> 0;
  c = (c + t) >>> 0;
  state[0] = a >>> 0;
  state[1] = b >>> 0;
  state[2] = c;
  state[3] = d;
  return t;
}

/** Uniform in (0, 1): never 0, so log() is safe. */
export function nextUniform(state: RngState): number {
  return (nextUint32(state) + 0.5) / 4294967296;
}

/** Standard normal (Box–Muller; the second value is dropped to keep the state four numbers). */
export function nextNormal(state: RngState): number {
  const u1 = nextUniform(state);
  const u2 = nextUniform(state);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
