/**
 * Builds a job's secure-aggregation runners (SecAgg+ or CKKS) from its privacy settings. CKKS keeps
 * its key state for the whole job; SecAgg+ draws fresh keys and a fresh neighbourhood graph every
 * round, the graph seeded per round so that a resumed job draws the graph the uninterrupted one would.
 */
import { ConfigError } from '../core/errors.js';
import { hashString, seededRng } from '../core/rng.js';
import { ckksRound, validateCkksConfig, type CkksKeyState } from '../federation/ckks/index.js';
import type { HorizontalJobConfig } from '../federation/horizontal/job-config.js';
import { secAggPlusRound, validateSecAggConfig } from '../federation/secagg/index.js';
import type { SecureCalls } from '../federation/secure-calls.js';
import type { SecureRoundRunner } from '../federation/secure-round.js';

/** The participant id of the one update a secure round hands the strategy. */
export const SECURE_AGGREGATE_ID = 'secure-aggregate';

/** A runner per round for `mode`. @throws ConfigError for invalid protocol settings */
export function createSecureRunner(config: HorizontalJobConfig, mode: 'secagg+' | 'ckks', calls: SecureCalls | undefined): (round: number) => SecureRoundRunner {
  if (calls === undefined) throw new ConfigError('privacy.aggregation', `${mode} needs participants that serve it, and this runner was given no way to reach them`);
  // Platform-level DP bounds each platform's influence with uniform weights (DP-FedAvg); example counts would break that bound.
  const uniform = config.privacy?.dp?.unit === 'platform';
  if (mode === 'ckks') {
    const settings = validateCkksConfig(config.privacy?.ckks ?? {}, 'privacy.ckks');
    const runner = ckksRound(uniform ? { ...settings, weighting: 'uniform' } : settings, calls.ckks, { keys: new Map<string, CkksKeyState>() });
    return () => runner;
  }
  const settings = validateSecAggConfig(config.privacy?.secAgg ?? {}, 'privacy.secAgg');
  const effective = uniform ? { ...settings, weighting: 'uniform' as const } : settings;
  return (round) => secAggPlusRound(effective, calls.secAgg, seededRng(hashString(`${config.seed}|${config.jobId}|secagg|${round}`)));
}

/** Checks the protocol settings of a job at submission. @throws ConfigError naming the field */
export function validateSecureSettings(config: HorizontalJobConfig): void {
  const mode = config.privacy?.aggregation ?? 'plain';
  if (mode === 'secagg+') validateSecAggConfig(config.privacy?.secAgg ?? {}, 'privacy.secAgg');
  if (mode === 'ckks') validateCkksConfig(config.privacy?.ckks ?? {}, 'privacy.ckks');
}
