/**
 * A participant's local policy: the platform's own limits on what jobs it accepts. Checked before
 * any data is touched for a job, and again each round.
 */
import { EduFedError } from '../core/errors.js';
import type { Schema } from '../data/schema.js';

/** Limits a platform sets for itself. */
export interface ParticipantPolicy {
  /** Refuse to train beyond this round number. */
  readonly maxRounds?: number;
  /** If set, only these columns may be used as features (id and label columns are always allowed). */
  readonly allowedFeatures?: readonly string[];
  /** Columns that must never be used as features. */
  readonly forbiddenFeatures?: readonly string[];
  /**
   * The largest ε (at the job's δ) this platform lets a job spend on its learners. Declared to the
   * coordinator at setup, so the job stops before a round that would exceed it, and enforced here
   * for the noise this platform adds itself (learner-level DP-SGD, local DP).
   */
  readonly maxEpsilon?: number;
}

/** Thrown when a job asks for something the platform's policy refuses. */
export class PolicyError extends EduFedError {
  constructor(message: string) {
    super('PARTICIPANT', `policy refused: ${message}`);
    this.name = 'PolicyError';
  }
}

/** Checks a job's schema or a round number against the policy. @throws PolicyError */
export function checkPolicy(policy: ParticipantPolicy, what: { schema?: Schema; round?: number }): void {
  if (what.round !== undefined && policy.maxRounds !== undefined && what.round > policy.maxRounds) {
    throw new PolicyError(`round ${what.round} exceeds this platform's maximum of ${policy.maxRounds} rounds`);
  }
  if (what.schema !== undefined) {
    for (const col of what.schema.columns) {
      if (col.type === 'id' || col.type === 'label' || col.type === 'ignore') continue;
      if (policy.forbiddenFeatures?.includes(col.name) === true) {
        throw new PolicyError(`feature "${col.name}" is forbidden by this platform's policy`);
      }
      if (policy.allowedFeatures !== undefined && !policy.allowedFeatures.includes(col.name)) {
        throw new PolicyError(`feature "${col.name}" is not in this platform's allowed features`);
      }
    }
  }
}
