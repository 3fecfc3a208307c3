/**
 * The configuration of a horizontal job: the data task, the model, the strategy, the stopping rule
 * and the round mechanics. Plain JSON, so it can be stored, sent and reproduced.
 */
import { ConfigError } from '../../core/errors.js';
import type { Schema } from '../../data/schema.js';
import type { ModelSpec } from '../../models/model.js';
import type { StrategyConfig } from '../../strategy/create-strategy.js';
import { checkPrivacyCombination, type PrivacyConfig } from './privacy-config.js';

/** When to stop, beyond the round limit. */
export interface StoppingConfig {
  /** Stop when this metric reaches `targetValue` (e.g. auc ≥ 0.85, or logLoss ≤ 0.4). */
  readonly targetMetric?: 'accuracy' | 'auc' | 'f1' | 'logLoss';
  readonly targetValue?: number;
  /** Stop after this many rounds without improvement of `patienceMetric` (default auc). */
  readonly patience?: number;
  readonly patienceMetric?: 'accuracy' | 'auc' | 'f1' | 'logLoss';
}

/** Everything that defines one horizontal job. */
export interface HorizontalJobConfig {
  readonly jobId: string;
  readonly schema: Schema;
  readonly testFraction: number;
  readonly splitSeed: number;
  /** An `id` column marking each platform's own held-out rows ("test"); overrides testFraction. */
  readonly splitColumn?: string;
  readonly model: ModelSpec;
  readonly strategy: StrategyConfig;
  /** Maximum number of rounds. */
  readonly rounds: number;
  readonly stopping?: StoppingConfig;
  /** Seed of the initial model and of participant selection. */
  readonly seed: number;
  /** Categories seen fewer times across the federation are merged into "other". */
  readonly minCategoryCount?: number;
  /** Per-request deadline; a participant that misses it is dropped from that round. */
  readonly roundTimeoutMs?: number;
  /** Quorum: the round fails (and the job stops) if fewer updates than this arrive. */
  readonly minParticipants?: number;
  /**
   * Fraction-to-wait: the round closes once this fraction of the selected participants (and at least
   * the quorum) sent valid updates; slower ones are cancelled and recorded as late. Default 1 (wait
   * for everyone until the deadline).
   */
  readonly waitFraction?: number;
  /** Updates whose L2 norm exceeds this are rejected as absurd. */
  readonly maxUpdateNorm?: number;
  /** Secure aggregation and differential privacy; absent means plain aggregation without DP. */
  readonly privacy?: PrivacyConfig;
}

/** Checks a job configuration's numbers. @throws ConfigError naming the field. */
export function validateJobConfig(c: HorizontalJobConfig): void {
  if (c.jobId.length === 0) throw new ConfigError('jobId', 'must not be empty');
  if (!(c.testFraction > 0 && c.testFraction < 1)) throw new ConfigError('testFraction', `must be in (0, 1), got ${c.testFraction}`);
  if (!Number.isInteger(c.rounds) || c.rounds < 1) throw new ConfigError('rounds', `must be a positive integer, got ${c.rounds}`);
  if (c.minParticipants !== undefined && (!Number.isInteger(c.minParticipants) || c.minParticipants < 1)) {
    throw new ConfigError('minParticipants', `must be a positive integer, got ${c.minParticipants}`);
  }
  if (c.roundTimeoutMs !== undefined && !(c.roundTimeoutMs > 0)) {
    throw new ConfigError('roundTimeoutMs', `must be positive, got ${c.roundTimeoutMs}`);
  }
  if (c.waitFraction !== undefined && !(c.waitFraction > 0 && c.waitFraction <= 1)) {
    throw new ConfigError('waitFraction', `must be in (0, 1], got ${c.waitFraction}`);
  }
  if (c.maxUpdateNorm !== undefined && !(c.maxUpdateNorm > 0)) {
    throw new ConfigError('maxUpdateNorm', `must be positive, got ${c.maxUpdateNorm}`);
  }
  checkPrivacyCombination(c.strategy.name, c.privacy);
  const s = c.stopping;
  if (s?.targetMetric !== undefined && s.targetValue === undefined) {
    throw new ConfigError('stopping.targetValue', 'is required with stopping.targetMetric');
  }
  if (s?.patience !== undefined && (!Number.isInteger(s.patience) || s.patience < 1)) {
    throw new ConfigError('stopping.patience', `must be a positive integer, got ${s.patience}`);
  }
}
