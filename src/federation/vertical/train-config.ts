/**
 * Defaults and checks of a vertical job's training plan ({@link VerticalTrainConfig}): every party
 * checks the plan it receives, since it arrives from the coordinator.
 */
import { ConfigError } from '../../core/errors.js';
import { DEFAULT_FRACTION_BITS } from './ring.js';
import type { SplitNnConfig, VerticalMode, VerticalTrainConfig } from './protocol.js';

const MODES: readonly VerticalMode[] = ['secure-lr', 'plain-lr', 'split-nn'];

/** The split network used when `split-nn` is asked for without a shape. */
export const DEFAULT_SPLIT_NN: SplitNnConfig = { bottomHidden: [16], embedding: 8, topHidden: [16], noiseStd: 0 };

/** What a caller may leave out of a plan. */
export type VerticalTrainOptions = Pick<VerticalTrainConfig, 'jobId' | 'mode'> & Partial<Omit<VerticalTrainConfig, 'jobId' | 'mode'>>;

/**
 * A complete, checked plan: 10 epochs, batches of 64, learning rate 0.1, no L2, seed 1,
 * 20 fraction bits, and {@link DEFAULT_SPLIT_NN} for `split-nn`.
 * @throws {ConfigError} as {@link checkTrainConfig}.
 */
export function verticalTrainConfig(options: VerticalTrainOptions): VerticalTrainConfig {
  const config: VerticalTrainConfig = {
    jobId: options.jobId,
    mode: options.mode,
    epochs: options.epochs ?? 10,
    batchSize: options.batchSize ?? 64,
    learningRate: options.learningRate ?? 0.1,
    l2: options.l2 ?? 0,
    seed: options.seed ?? 1,
    fracBits: options.fracBits ?? DEFAULT_FRACTION_BITS,
    ...(options.mode === 'split-nn' ? { splitNn: options.splitNn ?? DEFAULT_SPLIT_NN } : {}),
  };
  checkTrainConfig(config);
  return config;
}

function positiveIntegers(field: string, widths: readonly number[]): void {
  if (!Array.isArray(widths)) throw new ConfigError(field, 'must be an array of layer widths');
  widths.forEach((w, i) => {
    if (!Number.isSafeInteger(w) || w < 1) throw new ConfigError(`${field}[${i}]`, `must be a positive integer, got ${String(w)}`);
  });
}

/**
 * Checks a plan field by field.
 * @throws {ConfigError} naming the field: an empty job id, an unknown mode, non-positive epochs,
 *   a negative batch size, a learning rate that is not > 0, a negative L2, a non-integer seed,
 *   fraction bits outside [1, 30], or a missing or malformed split network in `split-nn` mode.
 */
export function checkTrainConfig(c: VerticalTrainConfig): void {
  if (typeof c.jobId !== 'string' || c.jobId === '') throw new ConfigError('jobId', 'must be a non-empty string');
  if (!MODES.includes(c.mode)) throw new ConfigError('mode', `expected one of ${MODES.join(', ')}, got ${JSON.stringify(c.mode)}`);
  if (!Number.isSafeInteger(c.epochs) || c.epochs < 1) throw new ConfigError('epochs', `must be a positive integer, got ${String(c.epochs)}`);
  if (!Number.isSafeInteger(c.batchSize) || c.batchSize < 0) throw new ConfigError('batchSize', `must be a non-negative integer (0 = full batch), got ${String(c.batchSize)}`);
  if (!(Number.isFinite(c.learningRate) && c.learningRate > 0)) throw new ConfigError('learningRate', `must be a finite number > 0, got ${String(c.learningRate)}`);
  if (!(Number.isFinite(c.l2) && c.l2 >= 0)) throw new ConfigError('l2', `must be a finite number ≥ 0, got ${String(c.l2)}`);
  if (!Number.isSafeInteger(c.seed)) throw new ConfigError('seed', `must be an integer, got ${String(c.seed)}`);
  if (!Number.isInteger(c.fracBits) || c.fracBits < 1 || c.fracBits > 30) throw new ConfigError('fracBits', `must be an integer in [1, 30], got ${String(c.fracBits)}`);
  if (c.mode === 'split-nn') {
    const s = c.splitNn;
    if (s === undefined) throw new ConfigError('splitNn', 'the split-nn mode needs the network shape');
    positiveIntegers('splitNn.bottomHidden', s.bottomHidden);
    positiveIntegers('splitNn.topHidden', s.topHidden);
    positiveIntegers('splitNn.embedding', [s.embedding]);
    if (s.noiseStd !== undefined && !(Number.isFinite(s.noiseStd) && s.noiseStd >= 0)) {
      throw new ConfigError('splitNn.noiseStd', `must be a finite number ≥ 0, got ${String(s.noiseStd)}`);
    }
  }
}
