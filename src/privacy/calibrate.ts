/**
 * Choosing a noise multiplier for a whole job from a target (ε, δ), for the CLI's `--dp-epsilon`:
 * the job's SGM steps are counted the way training and the ledger count them, then
 * {@link noiseMultiplierFor} bisects on σ.
 */
import { ConfigError } from '../core/errors.js';
import { dpSgdSchedule } from './dp-sgd.js';
import { computeRdp, DEFAULT_RDP_ORDERS, epsilonFromRdp, noiseMultiplierFor, type RdpConversion } from './rdp-accountant.js';

/** A learner-level (DP-SGD) budget for one participant over a job. */
export interface DpSgdCalibrationQuery {
  readonly targetEpsilon: number;
  readonly delta: number;
  /** Rounds the participant may train in (all of them, to be safe). */
  readonly rounds: number;
  readonly localEpochs: number;
  /** B; 0 = full batch. */
  readonly batchSize: number;
  /** n_k: the participant's training rows. */
  readonly numExamples: number;
  readonly orders?: readonly number[];
  readonly conversion?: RdpConversion;
}

/** A platform-level (DP-FedAvg) budget for a job. */
export interface DpFedAvgCalibrationQuery {
  readonly targetEpsilon: number;
  readonly delta: number;
  readonly rounds: number;
  /** m: participants selected (or expected) per round. */
  readonly participantsPerRound: number;
  /** W: participants who could be selected. */
  readonly population: number;
  readonly orders?: readonly number[];
  readonly conversion?: RdpConversion;
}

/** A calibrated noise multiplier and what it certifies. */
export interface Calibration {
  readonly noiseMultiplier: number;
  readonly sampleRate: number;
  /** SGM steps per round (DP-SGD steps, or 1 for DP-FedAvg). */
  readonly stepsPerRound: number;
  readonly totalSteps: number;
  /** ε(δ) actually reached with `noiseMultiplier` (≤ the target). */
  readonly epsilon: number;
}

function positiveInteger(field: string, v: number): number {
  if (!(Number.isSafeInteger(v) && v >= 1)) throw new ConfigError(field, `must be an integer ≥ 1, got ${String(v)}`);
  return v;
}

function finish(q: number, stepsPerRound: number, rounds: number, query: DpSgdCalibrationQuery | DpFedAvgCalibrationQuery): Calibration {
  const orders = query.orders ?? DEFAULT_RDP_ORDERS;
  const conversion = query.conversion ?? 'improved';
  const totalSteps = stepsPerRound * rounds;
  const noiseMultiplier = noiseMultiplierFor({ targetEpsilon: query.targetEpsilon, delta: query.delta, q, steps: totalSteps, orders, conversion });
  const epsilon = epsilonFromRdp(computeRdp(q, noiseMultiplier, totalSteps, orders), orders, query.delta, conversion).epsilon;
  return { noiseMultiplier, sampleRate: q, stepsPerRound, totalSteps, epsilon };
}

/**
 * σ for DP-SGD so that a participant training in every one of `rounds` rounds stays within
 * (targetEpsilon, delta) learner-level DP; steps as {@link dpSgdSchedule} counts them.
 * @throws {ConfigError} naming the argument, or `targetEpsilon` when it is out of reach.
 */
export function calibrateDpSgd(query: DpSgdCalibrationQuery): Calibration {
  const rounds = positiveInteger('rounds', query.rounds);
  const schedule = dpSgdSchedule(query.numExamples, query.batchSize, query.localEpochs);
  return finish(schedule.sampleRate, schedule.steps, rounds, query);
}

/**
 * z for DP-FedAvg so that the job stays within (targetEpsilon, delta) platform-level DP after `rounds`
 * rounds at sampling rate q = m/W (one SGM step per round).
 * @throws {ConfigError} naming the argument (m > W included), or `targetEpsilon` when it is out of reach.
 */
export function calibrateDpFedAvg(query: DpFedAvgCalibrationQuery): Calibration {
  const rounds = positiveInteger('rounds', query.rounds);
  const m = positiveInteger('participantsPerRound', query.participantsPerRound);
  const w = positiveInteger('population', query.population);
  if (m > w) throw new ConfigError('participantsPerRound', `${m} exceeds the population of ${w} participants`);
  return finish(m / w, 1, rounds, query);
}
