/**
 * Reconnection delays: exponential backoff with "equal jitter" (half the capped exponential delay
 * plus a uniform random part up to the other half), so participants that lost the coordinator at
 * the same moment do not all come back at the same moment, yet none waits less than half the cap.
 */
import { ConfigError } from '../core/errors.js';

/** Bounds of the reconnection delay. */
export interface BackoffOptions {
  /** Delay scale of the first retry, in ms (default 250). */
  readonly initialMs?: number;
  /** Largest delay, in ms (default 10 000). */
  readonly maxMs?: number;
}

/** Default first retry delay scale. */
export const DEFAULT_BACKOFF_INITIAL_MS = 250;
/** Default largest retry delay. */
export const DEFAULT_BACKOFF_MAX_MS = 10_000;

/**
 * Delay before retry number `attempt` (0-based): uniform in [cap/2, cap] with cap = min(maxMs, initialMs·2^attempt).
 * @param random uniform in [0, 1).
 * @throws ConfigError for bounds that are not positive or inverted.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const initialMs = options.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS;
  const maxMs = options.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
  if (!(initialMs > 0) || !(maxMs >= initialMs)) {
    throw new ConfigError('reconnect', `initialMs ${initialMs} and maxMs ${maxMs} must satisfy 0 < initialMs <= maxMs`);
  }
  const cap = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(0, attempt), 40));
  return Math.round(cap / 2 + (random() * cap) / 2);
}
