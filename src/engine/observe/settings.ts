// SPEC 6's observability settings, parsed for src/config.ts (the one reader of the environment):
// DOLPHIN_PINK_ALERT_WEBHOOK_URL, DOLPHIN_PINK_ALERT_MIN_SEVERITY, DOLPHIN_PINK_METRICS_ADDR.
// Imports nothing but the error type: config.ts is on every command's path, `pink fault` included.
import { usageError } from '../../errors.js';

export type AlertSeverity = 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
export const ALERT_SEVERITIES: readonly AlertSeverity[] = ['INFO', 'WARNING', 'ERROR', 'CRITICAL'];
export const ALERT_MIN_SEVERITY_DEFAULT: AlertSeverity = 'ERROR';
/** The metrics address when only a port is given: loopback, never every interface by default. */
export const METRICS_HOST_DEFAULT = '127.0.0.1';

export interface MetricsAddr {
  host: string;
  port: number;
  /** False when the operator named a host other than loopback explicitly (logged at start). */
  loopback: boolean;
}

export interface ObserveSettings {
  /** A credential (a Slack webhook URL carries its token in the path): never printed, never logged. */
  alert_webhook_url: string | undefined;
  alert_min_severity: AlertSeverity;
  metrics_addr: MetricsAddr | undefined;
}

export const OBSERVE_ENV_VARS = ['DOLPHIN_PINK_ALERT_WEBHOOK_URL', 'DOLPHIN_PINK_ALERT_MIN_SEVERITY', 'DOLPHIN_PINK_METRICS_ADDR'] as const;

type Env = Readonly<Record<string, string | undefined>>;

function text(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** The URL's origin, for messages: the path and query of a webhook URL are its secret. */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(unparseable URL)';
  }
}

function webhookUrl(env: Env): string | undefined {
  const name = 'DOLPHIN_PINK_ALERT_WEBHOOK_URL';
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    // The value itself is not echoed: it may hold a token.
    throw usageError(`${name} is not a URL.`, `Set ${name} to the webhook's http:// or https:// URL (e.g. a Slack incoming webhook), or unset it.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw usageError(`${name} must be an http:// or https:// URL (it is ${u.protocol}).`, `Set ${name} to the webhook's https:// URL, or unset it.`);
  }
  return raw;
}

function minSeverity(env: Env): AlertSeverity {
  const name = 'DOLPHIN_PINK_ALERT_MIN_SEVERITY';
  const raw = text(env, name);
  if (raw === undefined) return ALERT_MIN_SEVERITY_DEFAULT;
  const v = raw.toUpperCase();
  if ((ALERT_SEVERITIES as readonly string[]).includes(v)) return v as AlertSeverity;
  throw usageError(`${name}=${JSON.stringify(raw)} is not a severity.`, `Use one of ${ALERT_SEVERITIES.join(', ')} (default ${ALERT_MIN_SEVERITY_DEFAULT}), or unset it.`);
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/i;

/** `9464`, `:9464`, `127.0.0.1:9464`, `[::1]:9464`, `localhost:9464`; another host only when named. */
export function parseMetricsAddr(raw: string, name = 'DOLPHIN_PINK_METRICS_ADDR'): MetricsAddr {
  const bad = () => usageError(`${name}=${JSON.stringify(raw)} is not an address.`, `Set ${name} to HOST:PORT such as 127.0.0.1:9464 (a bare port binds loopback; ports 1-65535), or unset it to serve no metrics.`);
  const s = raw.trim();
  let host = '';
  let portText = s;
  const v6 = /^\[([0-9a-fA-F:]+)\]:(\d+)$/.exec(s);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
  } else if (!/^\d+$/.test(s)) {
    const i = s.lastIndexOf(':');
    if (i < 0) throw bad();
    host = s.slice(0, i);
    portText = s.slice(i + 1);
    if (!/^[A-Za-z0-9.-]*$/.test(host)) throw bad();
  }
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) throw bad();
  const h = host === '' ? METRICS_HOST_DEFAULT : host;
  return { host: h, port, loopback: LOOPBACK.test(h) };
}

export function loadObserveSettings(env: Env): ObserveSettings {
  const addr = text(env, 'DOLPHIN_PINK_METRICS_ADDR');
  return {
    alert_webhook_url: webhookUrl(env),
    alert_min_severity: minSeverity(env),
    metrics_addr: addr === undefined ? undefined : parseMetricsAddr(addr),
  };
}
