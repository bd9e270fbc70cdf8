// Issue 20: a position the venue liquidated is settled at once by a reconcile of its symbol (the
// kernel closes it with reason `liquidation`, POSITION_LIQUIDATED, the symbol REDUCING). The
// adapter hands each liquidation fill over once (takeLiquidations), so the symbols it names stay
// pending here until a reconcile of them has gone through: a reconcile that fails (a rate limit,
// a timeout) is tried again at the next step instead of losing the liquidation, which would leave
// the slot open against a flat venue, its exits refused, until the next restart.
import type { VenueLiquidation } from '../venue/types.js';

export class PendingLiquidations {
  /** Bounded by the engine's symbols: only those are kept. */
  private readonly symbols = new Set<string>();

  constructor(private readonly traded: readonly string[]) {}

  /** Adds the symbols of liquidations just taken from the adapter, then reconciles every pending one; cleared only if that reconcile returns. */
  async settle(taken: VenueLiquidation[], reconcile: (symbols: string[]) => Promise<unknown>): Promise<void> {
    for (const l of taken) if (this.traded.includes(l.symbol)) this.symbols.add(l.symbol);
    if (this.symbols.size === 0) return;
    const now = [...this.symbols];
    await reconcile(now);
    for (const s of now) this.symbols.delete(s);
  }

  pending(): string[] {
    return [...this.symbols];
  }
}
