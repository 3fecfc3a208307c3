/**
 * Stopping rules: pure predicates over the history of round summaries, evaluated by the
 * coordinator after each round.
 */
import { ConfigError } from '../core/errors.js';
import { checkInteger, checkName, checkNumber } from './option-checks.js';

/** What the coordinator knows about a finished round. */
export interface RoundSummary {
  /** 1-based round number. */
  readonly round: number;
  /** Evaluation metrics of the global model after this round (e.g. accuracy, auc, logLoss). */
  readonly metrics: Readonly<Record<string, number>>;
}

/** A rule's verdict; `reason` is set when `stop` is true. */
export interface StopDecision {
  readonly stop: boolean;
  readonly reason?: string;
}

/** Decides from the history so far (oldest first) whether training should stop. */
export interface StoppingRule {
  check(history: readonly RoundSummary[]): StopDecision;
}

/** Whether the metric should go up or down. */
export type MetricMode = 'max' | 'min';

const CONTINUE: StopDecision = { stop: false };

function checkMode(mode: unknown): MetricMode {
  if (mode !== 'max' && mode !== 'min') throw new ConfigError('mode', `must be "max" or "min", got ${String(mode)}`);
  return mode;
}

/**
 * Stops once the latest round number reaches n.
 * @throws ConfigError naming `rounds` unless n is an integer ≥ 1.
 */
export function maxRounds(n: number): StoppingRule {
  const limit = checkInteger('rounds', n, 1);
  return {
    check(history) {
      const last = history[history.length - 1];
      if (last === undefined || last.round < limit) return CONTINUE;
      return { stop: true, reason: `reached the maximum of ${limit} rounds` };
    },
  };
}

/**
 * Stops when the latest round's metric reaches the target (≥ for 'max', ≤ for 'min'). A round
 * without the metric, or with NaN, does not stop.
 * @throws ConfigError naming `metric`, `target` or `mode`.
 */
export function targetMetric(name: string, value: number, mode: MetricMode): StoppingRule {
  const metric = checkName('metric', name);
  const target = checkNumber('target', value);
  const m = checkMode(mode);
  return {
    check(history) {
      const last = history[history.length - 1];
      const x = last?.metrics[metric];
      if (last === undefined || x === undefined) return CONTINUE;
      const reached = m === 'max' ? x >= target : x <= target;
      if (!reached) return CONTINUE;
      return { stop: true, reason: `${metric} = ${x} ${m === 'max' ? '≥' : '≤'} target ${target} at round ${last.round}` };
    },
  };
}

/**
 * Early stopping: stops when the metric has not improved on its best value by more than
 * `minDelta` in the last `patience` rounds that reported it (rounds without the metric are
 * skipped; NaN never improves).
 * @throws ConfigError naming `metric`, `patience`, `mode` or `minDelta`.
 */
export function noImprovement(name: string, patience: number, mode: MetricMode, minDelta = 0): StoppingRule {
  const metric = checkName('metric', name);
  const wait = checkInteger('patience', patience, 1);
  const m = checkMode(mode);
  const delta = checkNumber('minDelta', minDelta, { min: 0 });
  return {
    check(history) {
      let best: number | undefined;
      let bestRound = 0;
      let since = 0;
      for (const h of history) {
        const x = h.metrics[metric];
        if (x === undefined) continue;
        const improved = !Number.isNaN(x) && (best === undefined || (m === 'max' ? x > best + delta : x < best - delta));
        if (improved) {
          best = x;
          bestRound = h.round;
          since = 0;
        } else {
          since++;
        }
      }
      if (since < wait) return CONTINUE;
      const bestText = best === undefined ? 'never reported a number' : `best ${best} at round ${bestRound}`;
      return { stop: true, reason: `${metric} did not improve by more than ${delta} for ${since} rounds (${bestText})` };
    },
  };
}

/**
 * Stops as soon as any of the rules does, with that rule's reason (first in argument order).
 * @throws ConfigError naming `rules` when called with none.
 */
export function anyOf(...rules: readonly StoppingRule[]): StoppingRule {
  if (rules.length === 0) throw new ConfigError('rules', 'anyOf needs at least one rule');
  return {
    check(history) {
      for (const rule of rules) {
        const d = rule.check(history);
        if (d.stop) return d;
      }
      return CONTINUE;
    },
  };
}
