/**
 * The coordinator's side of differential privacy in a horizontal job: resolves the noise multiplier
 * (given, or calibrated from a target ε), tells each platform what to apply (DP-SGD, update clipping,
 * noise shares), noises the mean itself in central mode (DP-FedAvg), keeps the job's privacy ledger,
 * and stops the job before a round that would exceed a budget.
 */
import { ConfigError } from '../core/errors.js';
import { cryptoRng } from '../core/rng.js';
import type { HorizontalJobConfig } from '../federation/horizontal/job-config.js';
import { DEFAULT_DELTA, platformNoise, type DpConfig, type DpUnit } from '../federation/horizontal/privacy-config.js';
import {
  AdaptiveClip,
  calibrateDpFedAvg,
  calibrateDpSgd,
  distributedNoiseStd,
  dpFedAvg,
  dpSgdSchedule,
  effectiveNoiseMultiplier,
  localNoiseStd,
  noiseMultiplierFor,
  PrivacyLedger,
  type LedgerEntry,
} from '../privacy/index.js';
import type { ClientUpdate, LocalPrivacyInstructions, Strategy } from '../strategy/strategy.js';
import { FEDAVG_DEFAULTS } from '../strategy/fedavg.js';

/** Privacy spent up to and including one round, as reported and stored with the round. */
export interface RoundPrivacy {
  readonly unit: DpUnit;
  readonly delta: number;
  /** The job's ε so far: platform-level ε, or the largest per-platform ε (learner, local). */
  readonly epsilon: number;
  /** Learner and local units: each platform's ε so far. */
  readonly perParticipant?: Readonly<Record<string, number>>;
  /** The noise multiplier(s) used this round, by participant for learner-level DP. */
  readonly noiseMultiplier: number;
  /** The clip used this round (changes with adaptive clipping). */
  readonly clipNorm: number;
  /** This round's ledger entries (so a resumed job rebuilds its ledger exactly). */
  readonly entries: readonly LedgerEntry[];
}

/** What the plan decides before a round. */
export interface DpVerdict {
  /** Set when the round must not run: the reason the job stops. */
  readonly stop?: string;
  /** What each selected platform applies. */
  readonly instructions: ReadonlyMap<string, LocalPrivacyInstructions>;
}

/** The coordinator's DP state machine of one job. */
export interface DpPlan {
  beforeRound(round: number, selected: readonly string[], available: number, numTrain: ReadonlyMap<string, number>, budgets: ReadonlyMap<string, number>): DpVerdict;
  /** Central platform-level DP: the updates replaced by one noisy clipped mean; other modes: unchanged. */
  centralAggregate(round: number, global: Float32Array, updates: readonly ClientUpdate[]): ClientUpdate[];
  /** Records the round: `selected` trained (and spent learner or local budget), `received` reached the aggregate. */
  afterRound(round: number, selected: readonly string[], received: readonly string[], available: number, numTrain: ReadonlyMap<string, number>): RoundPrivacy;
  /** The strategy with the plan's own state (adaptive clip) added to its checkpoint. */
  wrapState(strategy: Strategy): Strategy;
  /** A checkpointed state without the plan's entries, for the strategy's restore. */
  strategyOnly(state: Readonly<Record<string, Float32Array>>): Record<string, Float32Array>;
  /** Restores the ledger and adaptive clip of a resumed job. */
  restore(state: Readonly<Record<string, Float32Array>>, history: readonly { readonly privacy?: RoundPrivacy }[]): void;
}

const STATE_KEY = 'dp.adaptiveClip';
/** The participant id of the one update central DP hands the strategy. */
export const DP_MEAN_ID = 'dp-noisy-mean';

/** Builds the DP plan of a job; undefined when the job has no DP. @throws ConfigError for an unreachable target ε */
export function createDpPlan(config: HorizontalJobConfig): DpPlan | undefined {
  const dp = config.privacy?.dp;
  if (dp === undefined || config.privacy === undefined) return undefined;
  return new Plan(config, dp, dp.unit === 'platform' ? platformNoise(config.privacy) : undefined);
}

class Plan implements DpPlan {
  private readonly delta: number;
  private ledger: PrivacyLedger;
  private readonly maxEpsilon: number | undefined;
  private readonly epochs: number;
  private readonly batchSize: number;
  /** σ per participant (learner-level with a target ε: each platform's n gives its own σ). */
  private readonly sigmaOf = new Map<string, number>();
  private platformSigma: number | undefined;
  private adaptive: AdaptiveClip | undefined;
  private lastSigma = 0;
  private lastClip: number;
  private adaptiveParams: { countNoiseStd: number; expectedCount: number } | undefined;

  constructor(
    private readonly config: HorizontalJobConfig,
    private readonly dp: DpConfig,
    private readonly noise: 'central' | 'distributed' | undefined,
  ) {
    this.delta = dp.delta ?? DEFAULT_DELTA;
    this.ledger = new PrivacyLedger({ delta: this.delta });
    this.maxEpsilon = dp.maxEpsilon ?? dp.targetEpsilon;
    this.epochs = config.strategy.epochs ?? FEDAVG_DEFAULTS.epochs;
    this.batchSize = config.strategy.batchSize ?? FEDAVG_DEFAULTS.batchSize;
    this.lastClip = dp.clipNorm;
    if (dp.noiseMultiplier !== undefined) this.platformSigma = dp.noiseMultiplier;
  }

  private learnerSigma(id: string, n: number): number {
    if (this.dp.noiseMultiplier !== undefined) return this.dp.noiseMultiplier;
    const cached = this.sigmaOf.get(id);
    if (cached !== undefined) return cached;
    const target = this.dp.targetEpsilon as number;
    const sigma = this.dp.unit === 'learner'
      ? calibrateDpSgd({ targetEpsilon: target, delta: this.delta, rounds: this.config.rounds, localEpochs: this.epochs, batchSize: this.batchSize, numExamples: n }).noiseMultiplier
      : noiseMultiplierFor({ targetEpsilon: target, delta: this.delta, q: 1, steps: this.config.rounds });
    this.sigmaOf.set(id, sigma);
    return sigma;
  }

  private jobSigma(selected: number, available: number): number {
    if (this.platformSigma === undefined) {
      this.platformSigma = calibrateDpFedAvg({
        targetEpsilon: this.dp.targetEpsilon as number,
        delta: this.delta,
        rounds: this.config.rounds,
        participantsPerRound: selected,
        population: available,
      }).noiseMultiplier;
    }
    return this.platformSigma;
  }

  /** This round's ledger entries for the given participants, before dropouts are known. */
  private entriesFor(round: number, ids: readonly string[], selected: number, available: number, numTrain: ReadonlyMap<string, number>, survivors = selected): LedgerEntry[] {
    if (this.dp.unit === 'platform') {
      const z = this.jobSigma(selected, available);
      // Distributed noise: platforms that dropped out took their share of the noise with them.
      const sigma = this.noise === 'distributed' ? effectiveNoiseMultiplier(z, selected, Math.max(1, survivors)) : z;
      return [{ round, unit: 'platform', q: selected / available, sigma, steps: 1 }];
    }
    return ids.map((id) => {
      const n = numTrain.get(id);
      if (n === undefined || n < 1) throw new ConfigError('privacy.dp', `participant "${id}" reported no training rows; learner-level accounting needs its n`);
      const sigma = this.roundSigma(id, ids, numTrain);
      if (this.dp.unit === 'learner') {
        const s = dpSgdSchedule(n, this.batchSize, this.epochs);
        return { round, unit: 'learner', participantId: id, q: s.sampleRate, sigma, steps: s.steps };
      }
      return { round, unit: 'local', participantId: id, q: 1, sigma, steps: 1 };
    });
  }

  /**
   * σ for one platform this round. Under secure aggregation every platform gets the same
   * instructions, so the largest σ of the round applies to all (each then spends at most its target).
   */
  private roundSigma(id: string, ids: readonly string[], numTrain: ReadonlyMap<string, number>): number {
    const secure = (this.config.privacy?.aggregation ?? 'plain') !== 'plain';
    if (!secure) return this.learnerSigma(id, numTrain.get(id) ?? 1);
    return Math.max(...ids.map((x) => this.learnerSigma(x, numTrain.get(x) ?? 1)));
  }

  beforeRound(round: number, selected: readonly string[], available: number, numTrain: ReadonlyMap<string, number>, budgets: ReadonlyMap<string, number>): DpVerdict {
    const entries = this.entriesFor(round, selected, selected.length, available, numTrain);
    for (const e of entries) {
      if (this.maxEpsilon !== undefined) {
        const check = this.ledger.wouldExceed(this.maxEpsilon, e);
        if (check.exceeds) return { stop: `privacy budget: ${check.message} of the job; stopped before round ${round}`, instructions: new Map() };
      }
      const ids = e.participantId !== undefined ? [e.participantId] : selected;
      for (const id of ids) {
        const budget = budgets.get(id);
        if (budget === undefined) continue;
        const check = this.ledger.wouldExceed(budget, e);
        if (check.exceeds) {
          return { stop: `privacy budget: ${check.message} (the policy of participant "${id}"); stopped before round ${round}`, instructions: new Map() };
        }
      }
    }
    const clip = this.dp.clipNorm;
    const out = new Map<string, LocalPrivacyInstructions>();
    for (const [i, id] of selected.entries()) {
      switch (this.dp.unit) {
        case 'learner':
          out.set(id, { dpSgd: { clipNorm: clip, noiseMultiplier: (entries[i] as LedgerEntry).sigma }, delta: this.delta });
          break;
        case 'local':
          out.set(id, { clipUpdate: clip, updateNoiseStd: localNoiseStd((entries[i] as LedgerEntry).sigma, clip), delta: this.delta });
          break;
        case 'platform':
          if (this.noise === 'distributed') {
            out.set(id, { clipUpdate: clip, updateNoiseStd: distributedNoiseStd(this.jobSigma(selected.length, available), clip, selected.length), delta: this.delta });
          }
          break;
      }
    }
    return { instructions: out };
  }

  centralAggregate(_round: number, global: Float32Array, updates: readonly ClientUpdate[]): ClientUpdate[] {
    if (this.dp.unit !== 'platform' || this.noise !== 'central') return [...updates];
    const z = this.platformSigma;
    if (z === undefined) throw new ConfigError('privacy.dp', 'central DP aggregation before its noise multiplier was fixed');
    let clip: number | AdaptiveClip = this.dp.clipNorm;
    const a = this.dp.adaptiveClip;
    if (a !== undefined) {
      // σ_b defaults to the paper's m/20, raised to z where that is smaller, as σ_b > z/2 is required.
      this.adaptive ??= this.adaptiveClip(this.dp.clipNorm, a.countNoiseMultiplier ?? Math.max(updates.length / 20, z), updates.length);
      clip = this.adaptive;
    }
    // Noise from the operating system's CSPRNG: the coordinator's seed is known to everyone.
    const result = dpFedAvg(global, updates, { noiseMultiplier: z, clip }, cryptoRng());
    this.lastClip = result.stats.clipNorm;
    return [{ participantId: DP_MEAN_ID, params: result.params, numExamples: 1 }];
  }

  afterRound(round: number, selected: readonly string[], received: readonly string[], available: number, numTrain: ReadonlyMap<string, number>): RoundPrivacy {
    // Learner and local DP: every platform asked to train may have spent its budget, whether or not its update arrived in time.
    const entries = this.entriesFor(round, selected, selected.length, available, numTrain, received.length);
    for (const e of entries) this.ledger.record(e);
    this.lastSigma = Math.max(...entries.map((e) => e.sigma));
    return this.report(round, entries);
  }

  private report(_round: number, entries: readonly LedgerEntry[]): RoundPrivacy {
    const summary = this.ledger.summary();
    const perParticipant: Record<string, number> = {};
    let epsilon = 0;
    for (const s of summary) {
      if (s.unit !== this.dp.unit) continue;
      if (s.participantId !== undefined) perParticipant[s.participantId] = s.epsilon;
      epsilon = Math.max(epsilon, s.epsilon);
    }
    return {
      unit: this.dp.unit,
      delta: this.delta,
      epsilon,
      ...(this.dp.unit !== 'platform' ? { perParticipant } : {}),
      noiseMultiplier: this.lastSigma,
      clipNorm: this.lastClip,
      entries,
    };
  }

  private adaptiveClip(initialClip: number, countNoiseStd: number, expectedCount: number): AdaptiveClip {
    const a = this.dp.adaptiveClip;
    this.adaptiveParams = { countNoiseStd, expectedCount };
    return new AdaptiveClip({ initialClip, targetQuantile: a?.targetQuantile ?? 0.5, learningRate: a?.learningRate ?? 0.2, countNoiseStd, expectedCount });
  }

  wrapState(strategy: Strategy): Strategy {
    const adaptive = this.adaptive;
    if (adaptive === undefined) return strategy;
    return {
      name: strategy.name,
      configureTrain: (r, a, rng) => strategy.configureTrain(r, a, rng),
      aggregateTrain: (r, g, u) => strategy.aggregateTrain(r, g, u),
      state: () => {
        const s = adaptive.state();
        const p = this.adaptiveParams ?? { countNoiseStd: 1, expectedCount: 1 };
        return { ...strategy.state(), [STATE_KEY]: Float32Array.of(s.clip, s.rounds, p.countNoiseStd, p.expectedCount) };
      },
      restore: (s) => strategy.restore(this.strategyOnly(s)),
    };
  }

  strategyOnly(state: Readonly<Record<string, Float32Array>>): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(state)) if (k !== STATE_KEY) out[k] = v;
    return out;
  }

  restore(state: Readonly<Record<string, Float32Array>>, history: readonly { readonly privacy?: RoundPrivacy }[]): void {
    this.ledger = PrivacyLedger.fromEntries(history.flatMap((h) => h.privacy?.entries ?? []), { delta: this.delta });
    const saved = state[STATE_KEY];
    const a = this.dp.adaptiveClip;
    if (saved !== undefined && a !== undefined && saved.length === 4) {
      this.adaptive = this.adaptiveClip(saved[0] as number, saved[2] as number, saved[3] as number);
      this.adaptive.restore({ clip: saved[0] as number, rounds: saved[1] as number });
      this.platformSigma ??= this.dp.noiseMultiplier;
    }
  }
}
