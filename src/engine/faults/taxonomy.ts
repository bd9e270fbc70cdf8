// SPEC section 4: the fault taxonomy as data. ONE table, the single source of the kernel's
// diagnostic codes and severities (the kernel imports `FAULT` from here and writes no code as a
// string literal) and of everything `pink fault` prints. The seed's classes come first, with
// their operator responses adapted to pink (`pink_ctl.py X` → `pink X`); the codes the kernel
// and the store add follow. This module must stay light: `pink fault` and the kernel load it on a
// cold start, so it imports nothing at load time; fastest-levenshtein (a CommonJS module, ~8 ms
// to load) is imported only when a name is unknown and the closest ones are wanted.
import type { Severity } from '../kernel/types.js';

export type Recovery = 'automatic' | 'automatic; operator if persistent' | 'operator' | 'none needed';

export interface FaultClass {
  readonly code: string;
  /** Other names that resolve to this code (the seed's section headings). */
  readonly aliases: readonly string[];
  readonly severity: Severity;
  readonly title: string;
  /** What happens to the slot (the symbol's state machine) when this outcome is emitted. */
  readonly slot_effect: string;
  readonly recovery: Recovery;
  readonly cause: string;
  /** What the operator does, in order. */
  readonly response: string;
  readonly env: readonly string[];
  readonly commands: readonly string[];
  /** Set for classes that are recorded as anomalies of a named origin beyond the usual rows. */
  readonly anomaly_origin?: string;
}

/** Every anomaly row the kernel writes carries this origin (seed: "Anomaly row origin"). */
export const ANOMALY_ORIGIN = 'ditav2_kernel';

/** SPEC section 2 and the seed's "Log Paths". */
export const LOG_PATHS = {
  dir_env: 'DOLPHIN_LOG_DIR',
  default_dir: '/tmp/dolphin_logs/supervisor',
  runtime: 'dolphin_live_pink.log',
  errors: 'dolphin_live_pink-error.log',
} as const;

const POLL = 'DOLPHIN_PINK_POLL_INTERVAL_SEC';
const COOLDOWN = 'DITA_V2_RATE_LIMIT_COOLDOWN_SEC';
const MAX_HOLD = 'DOLPHIN_MAX_HOLD_BARS';
const LOGS = `$${LOG_PATHS.dir_env}/${LOG_PATHS.errors}`;

const TABLE = [
  // ---- The seed's classes -------------------------------------------------------------------
  {
    code: 'RATE_LIMITED',
    aliases: [],
    severity: 'WARNING',
    title: 'The venue refused a request for rate',
    slot_effect: 'Unchanged; an order refused for rate was never placed, so the slot stays retryable (entry → IDLE, exit stays EXIT_WORKING). New sends are refused until the cooldown ends.',
    recovery: 'automatic; operator if persistent',
    cause: 'BingX answered with its rate-limit code, or the kernel is inside the cooldown that followed one. The cooldown is the venue\'s retry-after, else DITA_V2_RATE_LIMIT_COOLDOWN_SEC.',
    response: 'None required: the kernel retries on the next step cycle after the cooldown. If persistent (> 10 min, see RATE_LIMITED_PERSISTENT), check the BingX API limits with a direct call to /openApi/swap/v2/user/balance, and reduce the poll frequency with DOLPHIN_PINK_POLL_INTERVAL_SEC (default 1.0 s).',
    env: [POLL, COOLDOWN],
    commands: ['pink ditav2-status'],
  },
  {
    code: 'RATE_LIMITED_PERSISTENT',
    aliases: ['RATE_LIMITED (persistent cycle)', 'RATE_LIMITED persistent cycle', 'RATE_LIMITED_PERSISTENT_CYCLE'],
    severity: 'ERROR',
    title: 'RATE_LIMITED (persistent cycle): rate limits with no successful venue call',
    slot_effect: 'Unchanged; sends stay refused while each new cooldown runs. Emitted once per cycle; a successful venue call ends the cycle.',
    recovery: 'operator',
    cause: 'Consecutive RATE_LIMITED outcomes with no successful exchange interaction for longer than the persistent window (10 min by default).',
    response: 'Check the exchange API status (BingX status page, or a direct signed call). If the rate-limit window is known, set DITA_V2_RATE_LIMIT_COOLDOWN_SEC to it and restart with `pink restart`. Reduce DOLPHIN_PINK_POLL_INTERVAL_SEC pressure by raising it. If a position must be closed meanwhile, use `pink flatten SYMBOL` once a cooldown has passed.',
    env: [COOLDOWN, POLL],
    commands: ['pink ditav2-status', 'pink restart', 'pink flatten SYMBOL'],
    anomaly_origin: ANOMALY_ORIGIN,
  },
  {
    code: 'ORDER_REJECTED',
    aliases: [],
    severity: 'WARNING',
    title: 'The venue rejected an entry order',
    slot_effect: 'Entry reject: the slot returns to IDLE (to OPEN with what filled, if the order had filled in part); the decision engine re-evaluates on the next cycle. (An exit reject, partly filled or not, is EXIT_ORDER_REJECTED: the slot stays EXIT_WORKING.)',
    recovery: 'automatic',
    cause: 'BingX refused the order: instrument not tradeable on the account (VST), symbol precision changed, contract suspended, insufficient margin.',
    response: 'Check that the instrument is tradeable on BingX (VST for the demo account). Symbol precision changes or contract suspensions cause rejects. Inspect the outcome details (`pink ditav2-status`, faults section, or the error log) for the venue\'s reason text.',
    env: [],
    commands: ['pink ditav2-status'],
  },
  {
    code: 'EXIT_ORDER_REJECTED',
    aliases: [],
    severity: 'ERROR',
    title: 'The venue rejected an exit order; the position is still open',
    slot_effect: 'Stays EXIT_WORKING with no working order: the next EXIT intent from the decision engine is accepted as the retry.',
    recovery: 'automatic; operator if persistent',
    cause: 'BingX refused a reduce-only exit (precision, suspension, a reduce-only order larger than the venue\'s view of the position).',
    response: 'The kernel retries when the decision engine produces the next exit signal. If the position remains open past DOLPHIN_MAX_HOLD_BARS (default 250), flatten it by hand with `pink flatten SYMBOL`.',
    env: [MAX_HOLD],
    commands: ['pink ditav2-status', 'pink flatten SYMBOL'],
  },
  {
    code: 'CANCEL_REJECTED',
    aliases: [],
    severity: 'WARNING',
    title: 'The venue refused to cancel an order',
    slot_effect: 'Unchanged; the order stays working and the cancel may be asked again on the next cycle.',
    recovery: 'automatic',
    cause: 'The order was no longer cancellable, usually because it filled between the cancel attempt and the venue\'s answer.',
    response: 'Check the open orders on BingX (`pink ditav2-status` shows the working order). If the order filled between the cancel attempt and the rejection, the slot converges on the next reconcile cycle; `pink restart` forces one.',
    env: [],
    commands: ['pink ditav2-status', 'pink restart'],
  },
  {
    code: 'NO_ACTIVE_EXIT_ORDER',
    aliases: [],
    severity: 'INFO',
    title: 'Exit or cancel asked for, but no position or working exit order exists',
    slot_effect: 'Unchanged; the intent is refused, nothing is sent.',
    recovery: 'none needed',
    cause: 'An EXIT reached a slot that is already flat (CLOSED/IDLE), or a CANCEL reached a slot whose exit order already filled: usually it filled between decision and execution.',
    response: 'None: the fill event converges the slot to CLOSED on the next venue event or reconcile.',
    env: [],
    commands: ['pink ditav2-status'],
  },
  {
    code: 'STALE_STATE_RECONCILING',
    aliases: ['STALE_STATE_RECONCILE', 'STALE_STATE'],
    severity: 'WARNING',
    title: 'The slot waits for a reconcile (a send with an unknown outcome)',
    slot_effect: 'STALE_STATE_RECONCILING: normal event progression and new intents on the slot are blocked until a reconcile settles it.',
    recovery: 'automatic; operator if persistent',
    cause: 'A send timed out or lost its response (504, dropped connection), so PINK does not know whether the venue acted; the engine reconciles the symbol on its next step.',
    response: 'If the slot stays in this state for > 30 s, the exchange snapshot may be inconsistent. Run `pink restart` to force a full restart reconcile, and read its corrections.',
    env: [POLL],
    commands: ['pink ditav2-status', 'pink restart'],
  },
  {
    code: 'DUPLICATE_EVENT',
    aliases: [],
    severity: 'INFO',
    title: 'An event (or fill, funding, intent) already applied arrived again',
    slot_effect: 'Dropped: no state or capital change. Idempotency by event id, by fill id and by intent id.',
    recovery: 'none needed',
    cause: 'The venue or the runner delivered the same event twice (poll overlap, reconnect, reconcile inferring a fill already applied).',
    response: 'None.',
    env: [],
    commands: [],
  },
  // ---- Codes the kernel adds ----------------------------------------------------------------
  {
    code: 'INVALID_TRANSITION',
    aliases: [],
    severity: 'WARNING',
    title: 'The slot\'s state does not allow this intent or event',
    slot_effect: 'Unchanged; refused, nothing sent.',
    recovery: 'none needed',
    cause: 'E.g. ENTER while a position is open, EXIT while the entry order still works, a second exit while one works, a fill for a trade that already closed.',
    response: 'None for a single occurrence. If it repeats every step, the decision engine is out of step with the slot: compare its intents with `pink ditav2-status`.',
    env: [],
    commands: ['pink ditav2-status'],
  },
  {
    code: 'INVALID_INTENT',
    aliases: [],
    severity: 'WARNING',
    title: 'A malformed intent was refused',
    slot_effect: 'Unchanged; nothing sent.',
    recovery: 'operator',
    cause: 'Missing or bad fields: qty/notional/fraction not a positive number, no side on ENTER, notional sizing with no mark price yet, a limit order with no price.',
    response: 'Fix the producer of the intent (the signals file or the strategy); the outcome details name the field.',
    env: [],
    commands: ['pink ditav2-status'],
  },
  {
    code: 'INVALID_INPUT',
    aliases: [],
    severity: 'ERROR',
    title: 'A malformed kernel input was refused',
    slot_effect: 'Unchanged.',
    recovery: 'operator',
    cause: 'The runner or venue adapter handed the kernel an input with missing or non-finite fields (a FILL with no fill_id, a NaN price, a negative ts).',
    response: 'A bug in the adapter: keep the journal, run `pink replay` to reproduce, and report it with the details line from the error log.',
    env: [],
    commands: ['pink replay'],
  },
  {
    code: 'UNKNOWN_SYMBOL',
    aliases: [],
    severity: 'WARNING',
    title: 'An intent for a symbol PINK has no slot for',
    slot_effect: 'None; refused, nothing sent.',
    recovery: 'operator',
    cause: 'The symbol is not in DOLPHIN_PINK_SYMBOLS (and no orphan position was adopted on it).',
    response: 'Add the symbol to DOLPHIN_PINK_SYMBOLS and `pink restart`, or fix the intent producer.',
    env: ['DOLPHIN_PINK_SYMBOLS'],
    commands: ['pink restart'],
  },
  {
    code: 'UNKNOWN_ORDER',
    aliases: [],
    severity: 'WARNING',
    title: 'A venue event for an order the kernel does not know',
    slot_effect: 'None; the event is dropped.',
    recovery: 'automatic',
    cause: 'The client order id is not one of this PINK history\'s orders (another system\'s, another PINK history\'s), or it is a fill of one of its orders no longer remembered that the kernel never applied (the reconcile then shows a position mismatch). An event of a forgotten order of this history is DUPLICATE_EVENT instead.',
    response: 'None if rare. If repeated, run `pink mode-verify`: another system may trade this account.',
    env: [],
    commands: ['pink mode-verify'],
  },
  {
    code: 'LATE_EVENT',
    aliases: [],
    severity: 'INFO',
    title: 'An event for an order that is no longer working',
    slot_effect: 'Unchanged.',
    recovery: 'none needed',
    cause: 'An ACCEPTED, CANCELED or REJECTED event arrived after the order had already left the book (races between poll and send answers).',
    response: 'None.',
    env: [],
    commands: [],
  },
  {
    code: 'EXIT_CLAMPED',
    aliases: [],
    severity: 'WARNING',
    title: 'An EXIT asked for more than remains; clamped to the remainder',
    slot_effect: 'EXIT_WORKING with a reduce-only order for exactly the remaining size: no oversell.',
    recovery: 'automatic',
    cause: 'A final (or partial) EXIT sized on a stale view of the position, or a strategy asking for more on purpose.',
    response: 'None. If it happens on every trade, the strategy sizes exits on a stale position.',
    env: [],
    commands: [],
  },
  {
    code: 'OVERFILL',
    aliases: [],
    severity: 'ERROR',
    title: 'A venue fill exceeds the order or the position; clamped',
    slot_effect: 'The fill is applied up to the order\'s remainder and the position (never crossing zero, never flipping side); the excess is reported, not applied.',
    recovery: 'operator',
    cause: 'The venue reports more filled than ordered, or a reduce-only fill larger than PINK\'s position: PINK\'s books and the venue disagree.',
    response: 'Run `pink restart` and read the reconcile report (POSITION_MISMATCH / ORPHAN_POSITION follow if the venue holds something else); `pink flatten SYMBOL` gets flat.',
    env: [],
    commands: ['pink restart', 'pink flatten SYMBOL'],
  },
  {
    code: 'FILL_AFTER_TRADE',
    aliases: ['LATE_FILL'],
    severity: 'WARNING',
    title: 'A fill of one of PINK\'s orders arrived after its trade was over; applied as the venue netted it',
    slot_effect: 'The fill nets into the position as it is now, at its own price and with its fee and fills row: flat → a new trade opens (OPEN); on the trade\'s side → the trade grows; against it → an exit leg (CLOSED if it takes the rest).',
    recovery: 'automatic',
    cause: 'A fill raced a cancel: an entry partly filled and canceled, its filled part exited (the trade closed), then the rest of the entry\'s fill was reported (by the venue\'s events or a reconcile\'s fill read).',
    response: 'None; the books follow the venue. `pink ditav2-status` shows the position the fill left; the strategy (or `pink flatten SYMBOL`) manages it. If it repeats on every trade, read `pink timeline --since 30m --symbol SYMBOL`: the venue reports fills late.',
    env: [],
    commands: ['pink ditav2-status', 'pink flatten SYMBOL', 'pink timeline --since 30m'],
  },
  {
    code: 'HOLD_BARS_EXCEEDED',
    aliases: ['MAX_HOLD'],
    severity: 'WARNING',
    title: 'A position is held past DOLPHIN_MAX_HOLD_BARS',
    slot_effect: 'Unchanged; emitted once per trade.',
    recovery: 'operator',
    cause: 'The decision engine has not exited within the maximum hold (exits rejected, strategy stuck).',
    response: 'Check `pink ditav2-status` (overdue positions). Flatten with `pink flatten SYMBOL` if the exit does not come.',
    env: [MAX_HOLD],
    commands: ['pink ditav2-status', 'pink flatten SYMBOL'],
  },
  {
    code: 'ACCOUNT_DRIFT',
    aliases: ['DRIFT'],
    severity: 'WARNING',
    title: 'The venue balance differs from the kernel\'s capital',
    slot_effect: 'None: reported as drift (account row), never copied over capital.',
    recovery: 'operator',
    cause: 'Fees, funding or fills the kernel did not see, or activity by another system on the account. The kernel\'s account is the only capital authority.',
    response: 'Compare fills and funding on BingX with PINK\'s fills rows; run `pink mode-verify` (another system?) and `pink restart` (missed fills are inferred). If the drift stays, it is not PINK\'s (another system\'s trades, a transfer): once you have accounted for it, accept it with `pink accept-drift AMOUNT`, AMOUNT being the whole drift `pink ditav2-status` shows (e.g. `pink accept-drift -8.40`). Capital stays as it is; drift is judged net of what was accepted, and status is healthy again.',
    env: [],
    commands: ['pink restart', 'pink mode-verify', 'pink ditav2-status', 'pink accept-drift AMOUNT'],
  },
  {
    code: 'ORPHAN_POSITION',
    aliases: ['ORPHAN'],
    severity: 'ERROR',
    title: 'The venue holds a position PINK does not know (not adopted)',
    slot_effect: 'Unchanged; flagged. The reconcile does not converge.',
    recovery: 'operator',
    cause: 'A position opened outside PINK, or by fills PINK never saw, and the reconcile policy does not adopt orphans.',
    response: 'If one of PINK\'s orders on the symbol just left the book, it may be a fill PINK missed: `pink restart` reads the venue\'s fills again. Otherwise decide: close it with `pink flatten SYMBOL` (it adopts, then exits; the symbol stays REDUCING until `pink resume SYMBOL`), or leave it and accept that `pink restart` reports it. Run `pink mode-verify` to see if another system trades the account.',
    env: [],
    commands: ['pink restart', 'pink flatten SYMBOL', 'pink resume SYMBOL', 'pink mode-verify'],
  },
  {
    code: 'POSITION_ADOPTED',
    aliases: ['ADOPTED'],
    severity: 'WARNING',
    title: 'An orphan position was adopted into a slot',
    slot_effect: 'The slot becomes OPEN with the venue\'s side, size and entry price, in a new trade.',
    recovery: 'automatic',
    cause: 'The venue held a position PINK did not know and the reconcile policy adopts orphans (flatten, restart).',
    response: 'None; the decision engine (or `pink flatten SYMBOL`) now manages it.',
    env: [],
    commands: ['pink ditav2-status'],
  },
  {
    code: 'POSITION_MISMATCH',
    aliases: [],
    severity: 'ERROR',
    title: 'The venue\'s position size or side differs from PINK\'s after reconcile',
    slot_effect: 'Unchanged; flagged. The reconcile does not converge.',
    recovery: 'operator',
    cause: 'Fills PINK could not see or apply (outside the fill lookback, on forgotten orders), or another system trading the symbol.',
    response: 'Close the venue\'s whole position with `pink flatten SYMBOL --venue-position` (it shows PINK\'s size and the venue\'s, sends one reduce-only market order for the venue\'s size after confirmation, then reconciles the symbol), then `pink ditav2-status`.',
    env: [],
    commands: ['pink flatten SYMBOL --venue-position', 'pink ditav2-status'],
  },
  {
    code: 'FOREIGN_ORDER',
    aliases: [],
    severity: 'WARNING',
    title: 'An open order on the account that is not one of PINK\'s working orders',
    slot_effect: 'None: left alone, reported.',
    recovery: 'operator',
    cause: 'Another system (or a person) trades this account, or a PINK order the kernel had given up (e.g. a send it believed refused).',
    response: 'Run `pink mode-verify` (check 6 lists such orders). Cancel it on BingX if it is not meant to be there.',
    env: [],
    commands: ['pink mode-verify'],
  },
  {
    code: 'ORDER_GONE',
    aliases: [],
    severity: 'WARNING',
    title: 'A working PINK order is no longer on the venue',
    slot_effect: 'The order is marked canceled; entry → IDLE (or OPEN if it had fills), exit → OPEN.',
    recovery: 'automatic',
    cause: 'The venue canceled or expired it without PINK seeing the event, or a send whose outcome was unknown never created it.',
    response: 'None; the decision engine re-evaluates. If frequent, check the venue\'s order expiry settings.',
    env: [],
    commands: ['pink ditav2-status'],
  },
  {
    code: 'VENUE_UNAVAILABLE',
    aliases: [],
    severity: 'ERROR',
    title: 'The venue could not be reached for this step',
    slot_effect: 'Unchanged; the step is skipped.',
    recovery: 'automatic; operator if persistent',
    cause: 'Network failure, DNS, BingX maintenance, 5xx answers.',
    response: 'Check connectivity and the BingX status page; the engine retries each step. `pink ditav2-status` exits 3/1 while it lasts.',
    env: [POLL],
    commands: ['pink ditav2-status'],
  },
  {
    code: 'STORE_SPOOLING',
    aliases: ['SPOOLING'],
    severity: 'WARNING',
    title: 'ClickHouse did not take a batch; rows are spooled',
    slot_effect: 'None: trading continues; rows wait in $PINK_HOME/spool/ and are sent again later.',
    recovery: 'automatic; operator if persistent',
    cause: 'The ClickHouse server is unreachable or refused the insert; with the embedded store (chDB), its folder under $PINK_HOME/clickhouse is out of disk space or held by another process.',
    response: 'Nothing is lost and nothing appears twice; `pink ditav2-status` shows spooled rows. With a server: check it (PINK_CLICKHOUSE_URL: reachable, disk, the user\'s insert grant). With the embedded store: free disk space under $PINK_HOME/clickhouse and check with `pink mode-verify` that no other process has it open; if it lasts, `pink restart`. The error log names each failed write.',
    env: ['PINK_CLICKHOUSE_URL'],
    commands: ['pink ditav2-status'],
  },
  {
    code: 'KERNEL_ASSERTION',
    aliases: [],
    severity: 'CRITICAL',
    title: 'The kernel reached an impossible state and stopped',
    slot_effect: 'The engine stops; the journal is kept.',
    recovery: 'operator',
    cause: 'A bug in PINK: an internal invariant failed.',
    response: 'The engine stopped fail-closed (exit 4); `pink ditav2-status` says at which seq. Do not restart in a loop. Run `pink replay` to reproduce it, then `pink restart` once; if it stops again at start, close positions at the venue if needed (`pink flatten` replays the same journal) and report the error log and the journal. See INTERNAL_ERROR.',
    env: [],
    commands: ['pink replay', 'pink restart'],
  },
  // ---- Normal outcomes (INFO) ---------------------------------------------------------------
  info('OK', 'Input applied', 'As the input says.', 'A tick, or a successful venue call ending a rate-limit cycle.'),
  info('INTENT_ACCEPTED', 'Intent accepted; an order (or cancel) is sent', 'IDLE/CLOSED → ENTRY_WORKING, OPEN → EXIT_WORKING, or unchanged for a cancel.', 'The decision engine asked and the slot allowed it.'),
  info('ORDER_ACCEPTED', 'The venue accepted an order', 'Unchanged.', 'The venue\'s acknowledgement of a PLACE.'),
  info('ORDER_CANCELED', 'An order was canceled or expired', 'Entry → IDLE (OPEN if it had fills), exit → OPEN.', 'A cancel asked for, or the venue expired it.'),
  info('FILL_APPLIED', 'A fill was applied', 'Position and capital move; entry complete → OPEN, exit order done → OPEN.', 'A venue fill (or one inferred at reconcile).'),
  info('TRADE_CLOSED', 'A trade closed', '→ CLOSED, exactly once per trade.', 'The last exit leg, or a reconcile that found the venue flat.'),
  info('FUNDING_APPLIED', 'Funding applied to capital', 'None; capital moves by the funding amount.', 'A funding payment on a position.'),
  info('RECONCILED', 'Reconcile done', 'Stale slots settle on the venue\'s truth.', 'Startup, `pink restart`, `pink flatten`, or a stale slot.'),
  // ---- The signals file (origin `signals`; security, issue 17) ---------------------------------
  {
    code: 'SIGNALS_FILE_CHANGED',
    aliases: [],
    severity: 'WARNING',
    title: 'The signals file was replaced, truncated, rewritten or removed',
    slot_effect: 'None by itself. The file at the path is read from its start; intent ids already taken from the old one are dropped there (the last 4096, and the kernel refuses an id whose order it remembers: DUPLICATE_EVENT).',
    recovery: 'automatic; operator if persistent',
    cause: 'Log rotation, an editor that writes a new file or rewrites it in place, a truncation, a deletion: noticed by the file\'s device and inode and by its bytes just before the offset read so far. A file replaced while the engine ran is read to its end first; one replaced while it was down may have held lines after the last offset read, which were not read.',
    response: 'Check with the producer of the signals file that it only appends, and that nothing it wrote before the change is missing: compare its intents with the `decisions` rows (`pink ditav2-status` shows the last details).',
    env: [],
    commands: ['pink ditav2-status'],
  },
  {
    code: 'SIGNALS_LINES_SKIPPED',
    aliases: [],
    severity: 'WARNING',
    title: 'Lines of the signals file were not fed to the kernel',
    slot_effect: 'Unchanged; nothing sent for those lines.',
    recovery: 'none needed',
    cause: 'A file read again from its start (SIGNALS_FILE_CHANGED) held intents whose ids were already taken, or a replaced file ended with an incomplete line (no newline). The details list the ids or the bytes.',
    response: 'None if the skipped intents were the ones already applied. Otherwise write them again with new intent ids, and make the producer end every line with a newline before it replaces the file.',
    env: [],
    commands: ['pink ditav2-status'],
  },
  // ---- The engine process (anomalies rows of origin `engine`, written by the runner) ----------
  info('ENGINE_STARTED', 'The engine started and its startup reconcile is done', 'None; the step loop begins.', '`pink run`, `pink restart`, or a supervisor started the engine (details: pid, venue, symbols, run).'),
  info('ENGINE_STOPPED', 'The engine stopped gracefully', 'None; the store was flushed and a checkpoint written.', 'SIGINT/SIGTERM, `pink restart`, the control socket, or the end of --steps / --duration (details: stopped_by, steps).'),
  {
    code: 'ENGINE_FAILED',
    aliases: [],
    severity: 'CRITICAL',
    title: 'The engine stopped on an error',
    slot_effect: 'Nothing more is sent; the journal and the last checkpoint are kept.',
    recovery: 'operator',
    cause: 'The engine process ended with an error: the venue or the store unreachable at start, a refused key, or an internal error (details: the error message and the exit code).',
    response: 'Read the reason in `pink timeline` (or the error log), fix what it names, then `pink restart`. Check `pink ditav2-status` first: positions are held at the venue while no engine runs; `pink flatten SYMBOL` gets out of one.',
    env: [],
    commands: ['pink timeline', 'pink ditav2-status', 'pink restart', 'pink flatten SYMBOL'],
    anomaly_origin: 'engine',
  },
  // ---- Added by issue 15 (the books) ----------------------------------------------------------
  info('SETTINGS_CHANGED', 'Settings changed at a start take effect', 'A symbol added gets an IDLE slot; one dropped (flat, nothing working) loses its slot; cooldown, max hold bars, drift tolerance and lot steps apply from this input on.', 'The engine started with settings (DOLPHIN_PINK_SYMBOLS, DITA_V2_RATE_LIMIT_COOLDOWN_SEC, DOLPHIN_MAX_HOLD_BARS, the venue\'s lot steps) that differ from the kernel\'s; the startup reconcile report lists each change.'),
  {
    code: 'BOOK_MEMORY_FULL',
    aliases: [],
    severity: 'ERROR',
    title: 'The kernel\'s memory of its orders or applied fills is at its bound',
    slot_effect: 'New ENTER/EXIT intents are refused (cancels still go); a fill that would need more memory is not applied. Nothing already remembered is forgotten early.',
    recovery: 'automatic; operator if persistent',
    cause: 'More orders or fills in the last 30 minutes than the kernel\'s bounds (20,000 orders, 60,000 fill ids; new orders stop at 50,000 fill ids). PINK\'s own order budget keeps it far below that: something sends or fills far more than PINK does.',
    response: 'Memory frees itself as the entries pass 30 minutes. Meanwhile check `pink ditav2-status` (engine memory) and `pink mode-verify` (another system on the account?). If a fill was refused, run `pink restart` once the memory has room, and `pink flatten SYMBOL` on a position mismatch.',
    env: [],
    commands: ['pink ditav2-status', 'pink mode-verify', 'pink restart'],
  },
  // ---- Durability and fail-stop (issue 16): written by the runner, not the kernel ------------
  {
    code: 'DISK_FULL',
    aliases: ['ENOSPC'],
    severity: 'ERROR',
    title: 'The disk of $PINK_HOME is full: the journal (or a checkpoint) could not be written',
    slot_effect: 'Unchanged: the input that could not be journaled was cut back and never applied. The engine holds: no new intent and no send until an append succeeds again and a full reconcile against the venue has gone through; then it trades again by itself.',
    recovery: 'automatic; operator if persistent',
    cause: 'No space (ENOSPC) or quota (EDQUOT) left on the file system of $PINK_HOME: journal/, checkpoints/, spool/, clickhouse/.',
    response: 'Free space on that file system (`df -h $PINK_HOME`; old files elsewhere, or grow the volume). Never delete journal/ or checkpoints/: they are the record. The engine resumes by itself, reconciling with the venue first; `pink ditav2-status` shows DISK_FULL (and a stale heartbeat) while it lasts. If positions must be closed meanwhile, close them at the venue: `pink flatten` needs the journal too.',
    env: [],
    commands: ['pink ditav2-status'],
  },
  {
    code: 'INTERNAL_ERROR',
    aliases: ['FAIL_STOP', 'ENGINE_FAIL_STOP'],
    severity: 'CRITICAL',
    title: 'The engine stopped itself fail-closed on an internal error (exit 4)',
    slot_effect: 'The engine stops at once: nothing is journaled, applied or sent after the error. Positions and working orders at the venue stay as they are.',
    recovery: 'operator',
    cause: 'An error that is not a named operating error of the venue or the store: a row that fails its check (RowAssertionError), a journal the disk refuses to write other than for space (EIO), a bug. KERNEL_ASSERTION is the kernel\'s own case.',
    response: '`pink ditav2-status` says "stopped on an internal error at seq N" ($PINK_HOME/stopped.json). Read the CRITICAL line of the error log and the stack in the runtime log. Run `pink replay` to reproduce it offline, then `pink restart` once: if it stops again at start (exit 4), the fault is in the journaled history; do not restart in a loop, close positions at the venue if needed, and report it with the journal and the logs.',
    env: [],
    commands: ['pink ditav2-status', 'pink replay', 'pink restart'],
  },
  {
    code: 'JOURNAL_DAMAGED',
    aliases: ['CHECKSUM_FAILED'],
    severity: 'CRITICAL',
    title: 'A journal record or a checkpoint fails its check: refused, exit 2',
    slot_effect: 'Nothing starts: `pink run`, `pink restart`, `pink replay` and `pink ditav2-status` (engine down) refuse with exit 2, naming the file, the line, the byte offset and the seq. Nothing is skipped or guessed.',
    recovery: 'operator',
    cause: 'A record whose checksum does not match (a flipped byte, an edit), a gap or overlap in the journal\'s seqs, a segment or checkpoint written by an older pink (format 1, without checksums), or a journal that does not continue from the checkpoint.',
    response: 'Do not edit the journal. Restore the damaged file from a copy if you have one. A damaged checkpoint.json: move it aside; pink then starts from the newest kept copy in checkpoints/ and the journal after it. Otherwise keep the home for the post-mortem and start a new history from the venue\'s truth: `pink run --new-history` (the old journal and checkpoints move to $PINK_HOME/archive/; the startup reconcile adopts the venue\'s positions).',
    env: [],
    commands: ['pink replay', 'pink run --new-history'],
  },
  {
    code: 'JOURNAL_TORN_TAIL',
    aliases: [],
    severity: 'WARNING',
    title: 'A torn last journal record was cut at start',
    slot_effect: 'None: that record\'s write never completed, so its input was never applied (apply follows the fsync).',
    recovery: 'automatic',
    cause: 'The engine was killed (or the machine lost power) in the middle of a journal write.',
    response: 'None: reported so that it is known. Only the last line of the last segment is ever cut; damage anywhere else is JOURNAL_DAMAGED.',
    env: [],
    commands: [],
  },
  {
    code: 'CHECKPOINT_FALLBACK',
    aliases: [],
    severity: 'WARNING',
    title: 'checkpoint.json was missing: the newest kept checkpoint was used',
    slot_effect: 'None: the kept checkpoint and the journal after it give the same state.',
    recovery: 'automatic',
    cause: '$PINK_HOME/checkpoint.json was removed or lost; a kept copy in checkpoints/ that the journal continues from was used instead.',
    response: 'Find out what removed it. Nothing else to do: the next checkpoint writes checkpoint.json again.',
    env: [],
    commands: ['pink ditav2-status'],
  },
  {
    code: 'HISTORY_MISSING',
    aliases: ['NEW_HISTORY'],
    severity: 'CRITICAL',
    title: 'No checkpoint, but a history exists: a fresh start is refused, exit 2',
    slot_effect: 'Nothing starts. A fresh kernel would restart its counters over the old history: new rows would reuse old row ids and the kernel would not know its positions.',
    recovery: 'operator',
    cause: 'checkpoint.json and every kept checkpoint are missing (or none continues the journal) while the journal, the spool or the store holds an earlier history.',
    response: 'Restore checkpoint.json or checkpoints/ from a copy. To start a new history on purpose: `pink run --new-history` (the old journal and checkpoints move to $PINK_HOME/archive/, never deleted; the startup reconcile adopts the venue\'s positions).',
    env: [],
    commands: ['pink run --new-history'],
  },
  // ---- Issue 19: trading states and circuit breakers ----------------------------------------
  {
    code: 'TRADING_STATE_REFUSED',
    aliases: ['HALTED', 'REDUCING'],
    severity: 'INFO',
    title: 'An intent refused by the trading state (REDUCING or HALTED)',
    slot_effect: 'Unchanged: nothing sent. REDUCING refuses ENTER (exits and flatten go through); HALTED refuses ENTER and EXIT (cancels of PINK\'s own orders go through). Recorded in decisions.outcome_code.',
    recovery: 'operator',
    cause: 'The symbol or the whole engine is REDUCING or HALTED: an operator ran `pink halt` or `pink flatten`, or a circuit breaker (BREAKER_*) tripped. PINK never leaves REDUCING/HALTED by itself.',
    response: 'See why and since when: `pink ditav2-status` (header and the TRADING column). When the cause is dealt with, re-enable entries: `pink resume SYMBOL` (or `pink resume --all`).',
    env: [],
    commands: ['pink ditav2-status', 'pink resume --all'],
  },
  {
    code: 'TRADING_STATE_CHANGED',
    aliases: ['HALT', 'RESUME'],
    severity: 'INFO',
    title: 'The trading state of a symbol or of the engine changed (halt, resume, flatten)',
    slot_effect: 'The slot\'s trading state changes; its position and orders do not (a halt sends nothing, a resume sends nothing).',
    recovery: 'none needed',
    cause: 'An operator command (`pink halt`, `pink resume`, `pink flatten`): recorded as an anomalies row of origin `operator` with the command, its arguments, the user, the host and the pid.',
    response: 'None: the audit trail of an operator action. Check the current states with `pink ditav2-status`.',
    env: [],
    commands: ['pink ditav2-status'],
    anomaly_origin: 'operator',
  },
  {
    code: 'BREAKER_REJECTS',
    aliases: ['MAX_REJECTS'],
    severity: 'ERROR',
    title: 'Circuit breaker: N consecutive venue rejects on a symbol set it REDUCING',
    slot_effect: 'The symbol goes REDUCING: no new entry; exits and flatten still go through. It stays REDUCING until an operator resumes it.',
    recovery: 'operator',
    cause: 'The venue rejected DOLPHIN_PINK_MAX_REJECTS (default 5; 0 = off) orders in a row on the symbol with no accepted order or fill between: a bad size, margin, a suspended market, an API change.',
    response: 'Read the rejects\' reasons: `pink timeline --symbol SYMBOL` and the error log ($DOLPHIN_LOG_DIR/dolphin_live_pink-error.log). Fix the cause (margin, size, symbol status at BingX), then `pink resume SYMBOL`.',
    env: ['DOLPHIN_PINK_MAX_REJECTS'],
    commands: ['pink timeline --since 30m', 'pink resume SYMBOL'],
    anomaly_origin: ANOMALY_ORIGIN,
  },
  {
    code: 'BREAKER_RATE_LIMITED',
    aliases: [],
    severity: 'ERROR',
    title: 'Circuit breaker: a persistent rate-limit cycle set the engine REDUCING',
    slot_effect: 'The engine goes REDUCING: no new entry on any symbol; exits still go through once the venue answers. It stays REDUCING until an operator resumes it.',
    recovery: 'operator',
    cause: 'RATE_LIMITED_PERSISTENT: the venue refused for rate for the whole persistent window with no successful call.',
    response: 'Follow RATE_LIMITED_PERSISTENT (`pink fault RATE_LIMITED_PERSISTENT`): check the BingX API limits, raise DOLPHIN_PINK_POLL_INTERVAL_SEC. Once the venue answers again (`pink ditav2-status` healthy), `pink resume --all`.',
    env: [POLL, COOLDOWN],
    commands: ['pink fault RATE_LIMITED_PERSISTENT', 'pink resume --all'],
    anomaly_origin: ANOMALY_ORIGIN,
  },
  {
    code: 'BREAKER_MISMATCH',
    aliases: ['BREAKER_ORPHAN'],
    severity: 'ERROR',
    title: 'Circuit breaker: an unresolved position mismatch or orphan set the symbol REDUCING',
    slot_effect: 'The symbol goes REDUCING: no new entry. It stays REDUCING until an operator resumes it, even once a reconcile converges.',
    recovery: 'operator',
    cause: 'A reconcile found a venue position that is not PINK\'s (ORPHAN_POSITION) or not the one PINK holds (POSITION_MISMATCH): someone else traded the symbol on PINK\'s account, or PINK\'s books are wrong.',
    response: 'Find who traded the symbol (`pink mode-verify`). Close the venue\'s position: a mismatch with `pink flatten SYMBOL --venue-position` (it shows both sizes before sending), an orphan with `pink flatten SYMBOL` (it adopts, then exits); check `pink ditav2-status` lists no divergence for the symbol, then `pink resume SYMBOL`.',
    env: [],
    commands: ['pink flatten SYMBOL --venue-position', 'pink flatten SYMBOL', 'pink resume SYMBOL'],
    anomaly_origin: ANOMALY_ORIGIN,
  },
  {
    code: 'BREAKER_DRAWDOWN',
    aliases: ['MAX_DRAWDOWN'],
    severity: 'ERROR',
    title: 'Circuit breaker: the loss from the equity peak passed DOLPHIN_PINK_MAX_DRAWDOWN_USDT; the engine is REDUCING',
    slot_effect: 'The engine goes REDUCING: no new entry on any symbol; open positions may still exit. It stays REDUCING until an operator resumes it.',
    recovery: 'operator',
    cause: 'Equity (capital + unrealized PnL, PINK\'s own books) fell more than DOLPHIN_PINK_MAX_DRAWDOWN_USDT (default 0 = no breaker) below its peak since the history began or the engine was last resumed.',
    response: 'Review the losses: `pink report --since 24h` and `pink timeline --since 30m`. Flatten what should not stay open (`pink flatten --all --yes`). Resume only on purpose: `pink resume --all` (the peak restarts from the equity at that moment).',
    env: ['DOLPHIN_PINK_MAX_DRAWDOWN_USDT'],
    commands: ['pink report --since 24h', 'pink resume --all'],
    anomaly_origin: ANOMALY_ORIGIN,
  },
  {
    code: 'OPERATOR_ACTION',
    aliases: ['AUDIT'],
    severity: 'INFO',
    title: 'An operator command that changed something (stop, restart, flatten --venue-position): the audit trail',
    slot_effect: 'None by itself: the command does what it says (a graceful stop writes a checkpoint and ends the engine).',
    recovery: 'none needed',
    cause: 'An operator ran `pink stop`, `pink restart` or `pink flatten SYMBOL --venue-position` (its row also carries both sizes, the order and the outcome): recorded as an anomalies row of origin `operator` (command, arguments, user, host, pid) and a runtime-log line. Halts, resumes and flattens are TRADING_STATE_CHANGED rows.',
    response: 'None: read the trail with `pink timeline --since 24h`.',
    env: [],
    commands: ['pink timeline --since 24h'],
    anomaly_origin: 'operator',
  },
  {
    code: 'DRIFT_ACCEPTED',
    aliases: ['ACCEPT_DRIFT'],
    severity: 'INFO',
    title: 'An operator accepted the account drift (a difference PINK did not cause)',
    slot_effect: 'None. Capital is unchanged (never copied from the venue); from then on drift is judged net of the accepted amount (status, reconcile).',
    recovery: 'none needed',
    cause: 'An operator ran `pink accept-drift AMOUNT` after ACCOUNT_DRIFT (another system traded the account, or money was transferred): recorded as a kernel input (journaled, checkpointed, replayed) and an anomalies row of origin `operator` with the command, its arguments, the user, the host, the pid, the amount and the drift measured.',
    response: 'None: the audit trail of an operator action (`pink timeline --since 24h`). `pink ditav2-status` shows the accepted amount beside the drift; a new difference beyond it is ACCOUNT_DRIFT again.',
    env: [],
    commands: ['pink ditav2-status', 'pink timeline --since 24h'],
    anomaly_origin: 'operator',
  },
  {
    code: 'DRIFT_ACCEPT_REFUSED',
    aliases: [],
    severity: 'WARNING',
    title: 'A drift accept the kernel refused: its amount is not the drift measured',
    slot_effect: 'None: nothing changes.',
    recovery: 'operator',
    cause: 'A DRIFT_ACCEPTED input whose amount differs from the drift of the last reconcile by more than the drift tolerance, or with no balance read yet. `pink accept-drift` checks this first and records nothing (exit 2), so this outcome means the input reached the kernel by another way.',
    response: 'Read the drift with `pink ditav2-status` (`pink restart` reads the balance again), then `pink accept-drift AMOUNT` with that drift.',
    env: [],
    commands: ['pink ditav2-status', 'pink restart', 'pink accept-drift AMOUNT'],
  },
  // ---- Issue 18: truthful health ---------------------------------------------------------------
  {
    code: 'SLOT_DIVERGED',
    aliases: ['DIVERGENCE', 'SLOT_DIVERGENCE'],
    severity: 'ERROR',
    title: 'A slot disagrees with the venue\'s position for several checks in a row, and a targeted reconcile did not settle it',
    slot_effect: 'Unchanged; listed in ditav2-status divergences[] and status is degraded (exit 1) until the venue and the slot agree again.',
    recovery: 'operator',
    cause: 'A fill PINK missed, or a position changed at the venue while the engine ran (a manual close, another system trading the symbol).',
    response: 'Run `pink restart` (a full reconcile with the venue). If the status still lists the divergence, the venue holds a position that is not PINK\'s: close it with `pink flatten SYMBOL --venue-position`, then `pink ditav2-status`.',
    env: [],
    commands: ['pink restart', 'pink flatten SYMBOL --venue-position', 'pink ditav2-status'],
  },
  // ---- Issue 20: venue realism ----------------------------------------------------------------
  {
    code: 'POSITION_LIQUIDATED',
    aliases: ['LIQUIDATION', 'LIQUIDATED'],
    severity: 'CRITICAL',
    title: 'The venue liquidated a position of PINK\'s; the symbol is REDUCING',
    slot_effect: 'The trade closes with an exit leg of reason `liquidation` at the venue\'s liquidation fill (its price and fee); → CLOSED. The symbol goes REDUCING: no new entry until an operator resumes it.',
    recovery: 'operator',
    cause: 'The mark crossed the position\'s liquidation price: the margin (isolated, or the account\'s in cross) no longer covered the maintenance margin. Leverage too high for the move, or the margin drained by losses and funding.',
    response: 'Read what happened: `pink timeline --since 30m --symbol SYMBOL`. Check leverage and margin mode at the venue, and the trade size (DOLPHIN_PINK_TRADE_NOTIONAL). Resume only on purpose: `pink resume SYMBOL`.',
    env: ['DOLPHIN_PINK_TRADE_NOTIONAL'],
    commands: ['pink timeline --since 30m', 'pink resume SYMBOL'],
    anomaly_origin: ANOMALY_ORIGIN,
  },
] as const satisfies readonly FaultClass[];

function info<C extends string>(code: C, title: string, slot_effect: string, cause: string) {
  return { code, aliases: [], severity: 'INFO', title, slot_effect, recovery: 'none needed', cause, response: 'None: a normal outcome.', env: [], commands: [] } as const;
}

export type FaultCode = (typeof TABLE)[number]['code'];

/** The taxonomy, in display order. */
export const FAULTS: readonly FaultClass[] = TABLE;

/** By code, typed: the kernel writes `FAULT.RATE_LIMITED` and gets its code and severity. */
export const FAULT = Object.freeze(Object.fromEntries(TABLE.map((f) => [f.code, f]))) as unknown as {
  readonly [C in FaultCode]: FaultClass & { readonly code: C };
};

function normalize(name: string): string {
  return name.trim().toUpperCase().replace(/[\s-]+/g, '_');
}

const BY_NAME: ReadonlyMap<string, FaultClass> = (() => {
  const m = new Map<string, FaultClass>();
  for (const f of FAULTS) {
    m.set(normalize(f.code), f);
    for (const a of f.aliases) m.set(normalize(a), f);
  }
  return m;
})();

/** Case-insensitive lookup by code or alias (`stale_state_reconcile` → STALE_STATE_RECONCILING). */
export function findFault(query: string): FaultClass | undefined {
  return BY_NAME.get(normalize(query));
}

/** The `n` codes whose code or alias is nearest to `query` (edit distance), best first. */
export async function closestFaults(query: string, n = 3): Promise<string[]> {
  const { distance } = await import('fastest-levenshtein');
  const q = normalize(query);
  const best = new Map<string, number>();
  for (const [name, f] of BY_NAME) {
    // A prefix or substring match is as good as a small edit: `RATE` → RATE_LIMITED.
    const d = name.includes(q) || q.includes(name) ? Math.abs(name.length - q.length) / 4 : distance(q, name);
    const prev = best.get(f.code);
    if (prev === undefined || d < prev) best.set(f.code, d);
  }
  return [...best.entries()]
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([code]) => code);
}
