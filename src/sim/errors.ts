// BingX's envelope and the error codes the simulator answers with.
//
// ccxt's bingx.handleErrors (4.5.84) looks the body's `msg`, then its `code`, up in
// `exceptions.exact` and throws ExchangeError for anything it does not know. Each entry below
// says which ccxt class the unmodified client raises for it, and where the code comes from.
// Codes are those BingX answers with; where ccxt has no mapping (ExchangeError), the adapter
// must read the code from the message (`bingx {"code":101290,...}`).

export interface VenueErrorSpec {
  code: number;
  msg: string;
  /** What ccxt 4.5.84 raises for it (documentation; checked by test/sim). */
  ccxt: string;
}

export const VENUE_ERRORS = {
  /** Wrong secret, wrong key, or a tampered query (ccxt exact '100001'). */
  badSignature: { code: 100001, msg: 'Signature verification failed', ccxt: 'AuthenticationError' },
  /** No `signature` parameter (ccxt exact '100412'). */
  nullSignature: { code: 100412, msg: 'Null signature', ccxt: 'AuthenticationError' },
  /** Timestamp missing or outside recvWindow: the body BingX's swap API sends (seen in the
   * wild as {"code":109400,"msg":"timestamp is invalid"}); ccxt has no mapping. */
  badTimestamp: { code: 109400, msg: 'timestamp is invalid', ccxt: 'ExchangeError' },
  /** The same refusal as BingX's 100421 "Null timestamp or timestamp mismatch" (ccxt exact
   * '100421' → BadSymbol, a mapping meant for another 100421 message: the adapter reads the msg). */
  timestampMismatch: { code: 100421, msg: 'Null timestamp or timestamp mismatch', ccxt: 'BadSymbol' },
  /** Malformed or missing parameters: BingX's swap validation error (ccxt exact '80014'). */
  badParams: { code: 80014, msg: 'Invalid parameters', ccxt: 'BadRequest' },
  /** positionSide other than BOTH in one-way mode: BingX's wording for the hedge-mode twin. */
  positionSide: { code: 109400, msg: "In the One-way mode, the 'PositionSide' field can only be set to BOTH.", ccxt: 'ExchangeError' },
  /** positionSide BOTH (or none) on a hedge-mode account. */
  positionSideHedge: { code: 109400, msg: "In the Hedge mode, the 'PositionSide' field can only be set to LONG or SHORT.", ccxt: 'ExchangeError' },
  /** A position mode change with a position or an open order on the account (BingX 80001's wording). */
  modeChangeRefused: { code: 80001, msg: 'the account has positions or pending orders', ccxt: 'BadRequest' },
  /** closePosition / positionId for a position the account does not hold (BingX 80017). */
  positionNotFound: { code: 80017, msg: 'position does not exist', ccxt: 'OrderNotFound' },
  /** Not enough available margin for the order (ccxt exact '101204'). */
  insufficientMargin: { code: 101204, msg: 'Insufficient margin', ccxt: 'InsufficientFunds' },
  /** Unknown orderId / clientOrderID (ccxt exact '80016'). */
  orderNotFound: { code: 80016, msg: 'order not exist', ccxt: 'OrderNotFound' },
  /** Cancel of an order that is already filled or cancelled. */
  orderClosed: { code: 80018, msg: 'order is already filled or cancelled', ccxt: 'ExchangeError' },
  /** A reduce-only order that would open, increase or flip the position (BingX code 101290). */
  reduceOnly: {
    code: 101290,
    msg: 'Reduce Only order can only decrease your position: the quantity exceeds the closable position (position minus open reduce-only orders)',
    ccxt: 'ExchangeError',
  },
  /** A clientOrderID this account already used: BingX's exact answer to a resend. */
  duplicateClientOrderId: { code: 101400, msg: 'clientOrderID unique check failed', ccxt: 'ExchangeError' },
  /** Quantity below the contract's minimum: BingX's wording ("The minimum order amount is 7 ADA."). */
  minQty: { code: 101400, msg: 'The minimum order amount is', ccxt: 'ExchangeError' },
  /** Notional below tradeMinUSDT (ccxt exact '110425'). */
  minNotional: {
    code: 110425,
    msg: 'Please ensure that the minimum nominal value of the order placed must be greater than 2u',
    ccxt: 'InvalidOrder',
  },
  /** Default code of an admin `rejectNext` (ccxt exact '110425' → InvalidOrder); msg is the reason given. */
  rejectedByAdmin: { code: 110425, msg: '', ccxt: 'InvalidOrder' },
  /** Default code of an admin `rejectNextCancel` (ccxt exact '80001' → BadRequest). */
  cancelRejectedByAdmin: { code: 80001, msg: '', ccxt: 'BadRequest' },
  /** Rate limit, style 'body' (ccxt exact '100410' → OperationFailed; HTTP 429 is not looked at). */
  rateLimited: { code: 100410, msg: 'The request frequency is too high, please try again later', ccxt: 'OperationFailed' },
  /** A path the venue does not serve (ccxt exact '100400' → BadRequest). */
  noSuchApi: { code: 100400, msg: 'this api is not exist', ccxt: 'BadRequest' },
} as const satisfies Record<string, VenueErrorSpec>;

/** A refusal by the venue: becomes an HTTP 200 envelope with a non-zero code, as BingX does. */
export class VenueError extends Error {
  readonly code: number;
  readonly httpStatus: number;
  constructor(spec: { code: number; msg: string }, detail?: string, httpStatus = 200) {
    super(detail === undefined ? spec.msg : spec.msg === '' ? detail : `${spec.msg}${spec.msg.endsWith(' is') ? ' ' : ', '}${detail}`);
    this.name = 'VenueError';
    this.code = spec.code;
    this.httpStatus = httpStatus;
  }
}

/** BingX writes `code` as 0 on some endpoints and "0" on others; the fixtures say which. */
export type CodeStyle = 'num' | 'str';

export function okEnvelope(data: unknown, style: CodeStyle, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { code: style === 'num' ? 0 : '0', msg: '', ...extra, data };
}

export function errorEnvelope(err: VenueError): Record<string, unknown> {
  return { code: err.code, msg: err.message, data: {} };
}
