/**
 * The transport's log sink. Refusals (unknown, revoked or expired certificates, a participant
 * claiming another id) and connection changes are logged here on both sides, one line each.
 */

/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** Where the transport writes its log lines; plug in the application's logger. */
export interface TransportLogger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

function formatFields(fields: LogFields | undefined): string {
  if (fields === undefined) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) parts.push(`${k}=${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)}`);
  }
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

/** A logger writing `ISO-time LEVEL [name] message k=v ...` lines to stderr. */
export function stderrLogger(name: string): TransportLogger {
  const line = (level: string, message: string, fields: LogFields | undefined): void => {
    process.stderr.write(`${new Date().toISOString()} ${level} [${name}] ${message}${formatFields(fields)}\n`);
  };
  return {
    info: (m, f) => line('INFO', m, f),
    warn: (m, f) => line('WARN', m, f),
    error: (m, f) => line('ERROR', m, f),
  };
}

/** A logger that drops everything. */
export const silentLogger: TransportLogger = { info: () => {}, warn: () => {}, error: () => {} };
