/**
 * The `job` section of a coordinator configuration when `kind` is `"vertical"`: who holds the
 * label, who holds features, the shared learner-id column, the training plan and the PSI options.
 */
import { ConfigError } from '../core/errors.js';
import { num, str, type JsonRecord } from '../core/validate.js';
import { PSI_SUITES, type PsiSuite } from '../federation/vertical/psi/index.js';
import type { VerticalMode, VerticalTrainConfig } from '../federation/vertical/protocol.js';
import { verticalTrainConfig } from '../federation/vertical/train-config.js';

const MODES: readonly VerticalMode[] = ['secure-lr', 'plain-lr', 'split-nn'];

/** A validated vertical job. */
export interface VerticalJobConfig {
  readonly kind: 'vertical';
  readonly jobId: string;
  /** The participant whose schema has the label column. */
  readonly labelHolder: string;
  readonly featureHolders: readonly string[];
  /** The learner-id column every platform's schema declares (PSI matches on it). */
  readonly idColumn: string;
  readonly train: VerticalTrainConfig;
  /** Fraction of the label holder's learners held out for testing. */
  readonly testFraction: number;
  /**
   * PSI between the label holder and each feature holder. Training needs `both`: each side learns
   * its rows of the intersection (and nothing about the other rows).
   */
  readonly psi: { readonly reveal: 'both'; readonly suite: PsiSuite };
  /** How long the coordinator waits for any one expected message before failing the job. */
  readonly stepTimeoutMs: number;
}

/** True for a job section that asks for vertical training. */
export function isVerticalJobSection(j: JsonRecord): boolean {
  return j['kind'] === 'vertical';
}

/**
 * Parses `job` with `kind: "vertical"`.
 * @throws {ConfigError} naming the field: unknown mode or suite, a reveal other than `both`, a label
 *   holder among the feature holders, no feature holder, or an invalid training plan.
 */
export function parseVerticalJob(j: JsonRecord): VerticalJobConfig {
  const mode = j['mode'] ?? 'secure-lr';
  const m = MODES.find((x) => x === mode);
  if (m === undefined) throw new ConfigError('job.mode', `expected one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  const fh = j['featureHolders'];
  if (!Array.isArray(fh) || fh.length === 0 || !fh.every((p): p is string => typeof p === 'string' && p !== '')) {
    throw new ConfigError('job.featureHolders', 'must be a non-empty array of participant ids');
  }
  const labelHolder = str(j, 'labelHolder', 'job');
  if (fh.includes(labelHolder) || new Set(fh).size !== fh.length) throw new ConfigError('job.featureHolders', 'must be distinct and must not include the label holder');
  const opt = (key: string, o: { integer?: boolean; min?: number; max?: number } = {}): number | undefined => (j[key] === undefined ? undefined : num(j, key, 'job', o));
  const psiSection = j['psi'] ?? {};
  if (typeof psiSection !== 'object' || psiSection === null || Array.isArray(psiSection)) throw new ConfigError('job.psi', 'must be an object');
  const reveal = 'reveal' in psiSection ? psiSection.reveal : 'both';
  if (reveal !== 'both') throw new ConfigError('job.psi.reveal', `vertical training needs "both" (each side learns its own rows of the intersection), got ${JSON.stringify(reveal)}`);
  const suiteValue = 'suite' in psiSection ? psiSection.suite : 'x25519';
  const suite = PSI_SUITES.find((s) => s === suiteValue);
  if (suite === undefined) throw new ConfigError('job.psi.suite', `expected one of ${PSI_SUITES.join(', ')}, got ${JSON.stringify(suiteValue)}`);
  const jobId = str(j, 'id', 'job');
  const seed = opt('seed', { integer: true, min: 0 });
  const epochs = opt('epochs', { integer: true, min: 1 });
  const batchSize = opt('batchSize', { integer: true, min: 0 });
  const learningRate = opt('learningRate', { min: Number.MIN_VALUE });
  const l2 = opt('l2', { min: 0 });
  const train = verticalTrainConfig({
    jobId,
    mode: m,
    ...(seed !== undefined ? { seed } : {}),
    ...(epochs !== undefined ? { epochs } : {}),
    ...(batchSize !== undefined ? { batchSize } : {}),
    ...(learningRate !== undefined ? { learningRate } : {}),
    ...(l2 !== undefined ? { l2 } : {}),
  });
  return {
    kind: 'vertical',
    jobId,
    labelHolder,
    featureHolders: fh,
    idColumn: str(j, 'idColumn', 'job'),
    train,
    testFraction: opt('testFraction', { min: 0, max: 0.99 }) ?? 0.2,
    psi: { reveal: 'both', suite },
    stepTimeoutMs: opt('stepTimeoutMs', { min: 1 }) ?? 300_000,
  };
}
