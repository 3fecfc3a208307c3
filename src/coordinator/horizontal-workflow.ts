/**
 * The coordinator's horizontal workflow (McMahan et al. 2017, the server loop of Algorithm 1): agree
 * the preprocessing from participants' aggregates, then round by round send the global model, collect
 * screened updates, aggregate with the strategy, evaluate, and stop by rule. Transport-agnostic: it
 * talks to participants through {@link ParticipantCaller}s, so simulation and deployment share it.
 */
import { setMaxListeners } from 'node:events';
import { EduFedError, ConfigError, toErrorInfo } from '../core/errors.js';
import { mergeSummaries, metricsFromSummary, type EvalSummary, type Metrics } from '../core/metrics.js';
import { seededRng, hashString, type Rng } from '../core/rng.js';
import { buildEncoder, mergeStats, type EncoderSpec, type LocalStats } from '../data/encoder.js';
import { createModel } from '../models/create-model.js';
import type { Model } from '../models/model.js';
import { createStrategy } from '../strategy/create-strategy.js';
import { anyOf, maxRounds, noImprovement, targetMetric, type StoppingRule } from '../strategy/stopping.js';
import type { ClientUpdate, Strategy } from '../strategy/strategy.js';
import type { ParticipantCaller, ParticipantCallers } from '../federation/horizontal/caller.js';
import { validateJobConfig, type HorizontalJobConfig } from '../federation/horizontal/job-config.js';
import type { DataTask, HorizontalReply, HorizontalRequest } from '../federation/horizontal/protocol.js';
import { checkUpdate } from './update-check.js';
import type { AggregationMode } from '../federation/horizontal/privacy-config.js';
import type { SecureRoundOutput } from '../federation/secure-round.js';
import type { TrainInstructions } from '../strategy/strategy.js';
import { createDpPlan, type RoundPrivacy } from './dp-plan.js';
import { createSecureRunner, SECURE_AGGREGATE_ID, validateSecureSettings } from './secure-runner.js';
import type { SecureCalls } from '../federation/secure-calls.js';

/** A participant left out of a round, and why. */
export interface Dropped {
  readonly participantId: string;
  readonly reason: string;
  /** True when the participant sent something invalid (flagged), false when it failed or timed out. */
  readonly flagged: boolean;
}

/** What happened in one round. */
export interface RoundRecord {
  readonly round: number;
  readonly selected: readonly string[];
  readonly received: readonly string[];
  readonly dropped: readonly Dropped[];
  /**
   * Weighted metrics of this round's new global model on participants' local test splits, evaluated at
   * the start of the next round's train request (or by a final evaluate request).
   */
  readonly metrics: Metrics;
  /** Mean local training loss, weighted by examples. */
  readonly trainLoss: number;
  readonly wallMs: number;
  /** Slowest participant's local training time in this round. */
  readonly maxTrainMs: number;
  readonly aggregateMs: number;
  /** Time from sending the train requests to the last accepted reply. */
  readonly trainPhaseMs: number;
  /**
   * Time of evaluation-only requests for this round's model (after the last round); 0 when the model
   * was evaluated inside the next round's train requests.
   */
  readonly evaluatePhaseMs: number;
  /** How updates reached the coordinator (absent: plain). */
  readonly aggregation?: AggregationMode;
  /** Secure aggregation: participants whose input is in the aggregate but who failed a later stage. */
  readonly failedAfterInput?: readonly Dropped[];
  /** Privacy spent up to and including this round (absent without DP). */
  readonly privacy?: RoundPrivacy;
}

/** Progress events, for progress bars and logs. */
export type JobEvent =
  | { readonly type: 'phase'; readonly phase: 'stats' | 'setup' | 'training' | 'done'; readonly detail: string }
  | { readonly type: 'round'; readonly record: RoundRecord; readonly maxRounds: number }
  | { readonly type: 'participant-excluded'; readonly participantId: string; readonly reason: string };

/** A state to resume from (a checkpoint of the last completed round). */
export interface ResumeState {
  readonly round: number;
  readonly params: Float32Array;
  readonly strategyState: Readonly<Record<string, Float32Array>>;
  readonly history: readonly RoundRecord[];
  readonly encoder: EncoderSpec;
}

/** Hooks of the runner into its surroundings (progress, durable storage). */
export interface WorkflowHooks {
  readonly onEvent?: (e: JobEvent) => void;
  /** Awaited after each completed round, before the next starts: the place to checkpoint. */
  readonly onRoundComplete?: (record: RoundRecord, params: Float32Array, strategy: Strategy, encoder: EncoderSpec) => Promise<void> | void;
  /** Resume from the last completed round instead of starting fresh. */
  readonly resume?: ResumeState;
  /** How to reach participants' secure-aggregation roles; required by SecAgg+ and CKKS jobs. */
  readonly secureCalls?: SecureCalls;
}

/** The outcome of a job. */
export interface JobResult {
  readonly config: HorizontalJobConfig;
  readonly encoder: EncoderSpec;
  readonly model: Model;
  readonly params: Float32Array;
  readonly rounds: readonly RoundRecord[];
  readonly stopReason: string;
  readonly participants: readonly string[];
}

/** Default per-request deadline. */
export const DEFAULT_TIMEOUT_MS = 120_000;
/** Default bound on an update's L2 norm: far above any sane model, far below an attack's. */
export const DEFAULT_MAX_UPDATE_NORM = 1e6;

/** A round that could not complete (below quorum). */
export class RoundError extends EduFedError {
  readonly round: number;
  constructor(round: number, message: string) {
    super('ROUND', `round ${round}: ${message}`);
    this.name = 'RoundError';
    this.round = round;
  }
}

/** Builds the stopping rule of a job. */
export function stoppingRule(config: HorizontalJobConfig): StoppingRule {
  const rules: StoppingRule[] = [maxRounds(config.rounds)];
  const s = config.stopping;
  const mode = (m: string): 'min' | 'max' => (m === 'logLoss' ? 'min' : 'max');
  if (s?.targetMetric !== undefined && s.targetValue !== undefined) {
    rules.push(targetMetric(s.targetMetric, s.targetValue, mode(s.targetMetric)));
  }
  if (s?.patience !== undefined) {
    const m = s.patienceMetric ?? 'auc';
    rules.push(noImprovement(m, s.patience, mode(m)));
  }
  return anyOf(...rules);
}

type Settled = { id: string; reply: HorizontalReply } | { id: string; error: string };

async function callAll(
  callers: ParticipantCallers,
  ids: readonly string[],
  make: (id: string) => HorizontalRequest,
  timeoutMs: number,
  round: number,
  enough?: { readonly count: number; readonly accept: (r: Settled) => boolean },
): Promise<Settled[]> {
  // With `enough`, the call closes as soon as that many accepted replies arrived: the rest are
  // cancelled and recorded as late, so a late reply can never enter a closed round.
  const controller = new AbortController();
  // One listener per pending call: hundreds of participants are expected, not a leak.
  setMaxListeners(0, controller.signal);
  let accepted = 0;
  const closed = { value: false };
  return Promise.all(
    ids.map(async (id): Promise<Settled> => {
      const call: ParticipantCaller | undefined = callers.get(id);
      if (call === undefined) return { id, error: 'not connected' };
      let settled: Settled;
      try {
        settled = { id, reply: await call(make(id), { timeoutMs, round, signal: controller.signal }) };
      } catch (err) {
        settled = { id, error: closed.value ? 'late: the round closed before its reply (fraction-to-wait reached)' : toErrorInfo(err).message };
      }
      if (closed.value && 'reply' in settled) {
        return { id, error: 'late: the round closed before its reply (fraction-to-wait reached)' };
      }
      if (enough !== undefined && enough.accept(settled) && ++accepted >= enough.count && !closed.value) {
        closed.value = true;
        controller.abort();
      }
      return settled;
    }),
  );
}

/**
 * Runs a horizontal job to its stopping rule.
 * @param participants returns the currently reachable participants; called before each phase and round,
 *   so participants may join or rejoin between rounds.
 * @throws RoundError when a round ends below quorum; ConfigError for an invalid configuration.
 */
export async function runHorizontalJob(
  config: HorizontalJobConfig,
  participants: () => ParticipantCallers,
  hooks: WorkflowHooks = {},
): Promise<JobResult> {
  validateJobConfig(config);
  validateSecureSettings(config);
  const emit = hooks.onEvent ?? ((): void => undefined);
  const timeoutMs = config.roundTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const minParticipants = config.minParticipants ?? 1;
  const maxNorm = config.maxUpdateNorm ?? DEFAULT_MAX_UPDATE_NORM;
  const task: DataTask = {
    testFraction: config.testFraction,
    splitSeed: config.splitSeed,
    schema: config.schema,
    ...(config.splitColumn !== undefined ? { splitColumn: config.splitColumn } : {}),
  };
  const excluded = new Map<string, string>();
  /** Participants that have split their rows for this job (answered `stats`), and those set up to train. */
  const split = new Set<string>();
  const ready = new Set<string>();
  const rule = stoppingRule(config);

  // Federated preprocessing: vocabularies and standardisation from aggregates, never pooled rows.
  let encoder: EncoderSpec;
  if (hooks.resume !== undefined) {
    encoder = hooks.resume.encoder;
  } else {
    const callers = participants();
    const ids = [...callers.keys()].sort();
    emit({ type: 'phase', phase: 'stats', detail: `${ids.length} participants` });
    const stats: LocalStats[] = [];
    for (const r of await callAll(callers, ids, () => ({ step: 'stats', from: 'coordinator', to: 'participant', payload: { task } }), timeoutMs, 0)) {
      if ('reply' in r && r.reply.step === 'stats-result') {
        stats.push(r.reply.payload.stats);
        split.add(r.id);
      } else exclude(r);
    }
    if (stats.length < minParticipants) {
      const why = [...excluded].map(([id, reason]) => `${id}: ${reason}`).join('; ');
      throw new RoundError(0, `only ${stats.length} participants sent statistics, quorum is ${minParticipants}${why.length > 0 ? `; excluded: ${why}` : ''}`);
    }
    encoder = buildEncoder(config.schema, mergeStats(stats), config.minCategoryCount !== undefined ? { minCategoryCount: config.minCategoryCount } : {});
  }
  const model = createModel(config.model, encoder.dim, encoder.numClasses);
  const strategy = createStrategy(config.strategy, model.layout);
  const aggregation = config.privacy?.aggregation ?? 'plain';
  const dp = createDpPlan(config);
  const secureRunner = aggregation === 'plain' ? undefined : createSecureRunner(config, aggregation, hooks.secureCalls);
  /** Training-set sizes from setup replies (learner-level accounting needs each platform's n). */
  const numTrain = new Map<string, number>();
  /** Budgets participants declared in their setup replies (their policy's maximum ε). */
  const budgets = new Map<string, number>();
  let params = model.init(seededRng(hashString(`${config.seed}|${config.jobId}|init`)));
  const history: RoundRecord[] = [];
  let round = 1;
  if (hooks.resume !== undefined) {
    dp?.restore(hooks.resume.strategyState, hooks.resume.history);
    if (hooks.resume.params.length !== model.numParams) {
      throw new ConfigError('resume', `checkpoint has ${hooks.resume.params.length} parameters, the model needs ${model.numParams}`);
    }
    params = hooks.resume.params.slice();
    strategy.restore(dp !== undefined ? dp.strategyOnly(hooks.resume.strategyState) : hooks.resume.strategyState);
    history.push(...hooks.resume.history);
    round = hooks.resume.round + 1;
  }

  function exclude(r: Settled): void {
    const reason = 'error' in r ? r.error : r.reply.step === 'error' ? r.reply.payload.message : `unexpected reply ${r.reply.step}`;
    excluded.set(r.id, reason);
    emit({ type: 'participant-excluded', participantId: r.id, reason });
  }

  /** Sends stats (to fix the local split) and setup to participants not yet set up: first time, join or rejoin. */
  async function ensureSetup(callers: ParticipantCallers): Promise<string[]> {
    // A participant that left may come back restarted, without its local job state: set it up again then.
    for (const id of [...split]) {
      if (!callers.has(id)) {
        split.delete(id);
        ready.delete(id);
      }
    }
    const fresh = [...callers.keys()].filter((id) => !ready.has(id)).sort();
    if (fresh.length > 0) {
      emit({ type: 'phase', phase: 'setup', detail: `${fresh.length} participants` });
      // Newcomers (and rejoiners, who may have restarted) split their rows first; the encoder stays as agreed.
      const unsplit = fresh.filter((id) => !split.has(id));
      const statsOk = await callAll(callers, unsplit, () => ({ step: 'stats', from: 'coordinator', to: 'participant', payload: { task } }), timeoutMs, round);
      for (const r of statsOk) {
        if ('reply' in r && r.reply.step === 'stats-result') split.add(r.id);
        else exclude(r);
      }
      const okIds = fresh.filter((id) => split.has(id));
      const setup = await callAll(
        callers,
        okIds,
        () => ({ step: 'setup', from: 'coordinator', to: 'participant', payload: { task, encoder, model: config.model } }),
        timeoutMs,
        round,
      );
      for (const r of setup) {
        if ('reply' in r && r.reply.step === 'setup-result') {
          ready.add(r.id);
          numTrain.set(r.id, r.reply.payload.numTrain);
          if (r.reply.payload.maxEpsilon !== undefined) budgets.set(r.id, r.reply.payload.maxEpsilon);
          excluded.delete(r.id);
        } else {
          split.delete(r.id);
          exclude(r);
        }
      }
    }
    return [...callers.keys()].filter((id) => ready.has(id)).sort();
  }

  emit({ type: 'phase', phase: 'training', detail: `${config.strategy.name}, up to ${config.rounds} rounds` });
  let stopReason = 'max rounds';
  const seen = new Set<string>();
  /**
   * A round aggregated but not yet evaluated. Its global model is evaluated by the participants at
   * the start of the next round's train request (one message instead of two per round), or by an
   * evaluate request after the last round. The round counts as completed (checkpointed, reported,
   * checked against the stopping rule) once its metrics are in.
   */
  let pending: Omit<RoundRecord, 'metrics' | 'evaluatePhaseMs'> | undefined;

  /** Completes the pending round with its metrics; true when the stopping rule says stop. */
  async function complete(summaries: readonly EvalSummary[], evaluatePhaseMs: number): Promise<boolean> {
    if (pending === undefined) return false;
    const metrics = summaries.length > 0 ? metricsFromSummary(mergeSummaries(summaries)) : { n: 0, accuracy: NaN, auc: NaN, f1: NaN, logLoss: NaN };
    const record: RoundRecord = { ...pending, metrics, evaluatePhaseMs };
    pending = undefined;
    history.push(record);
    if (hooks.onRoundComplete !== undefined) await hooks.onRoundComplete(record, params, dp !== undefined ? dp.wrapState(strategy) : strategy, encoder);
    emit({ type: 'round', record, maxRounds: config.rounds });
    const verdict = rule.check(history.map((h) => ({ round: h.round, metrics: { ...h.metrics } })));
    if (verdict.stop) stopReason = verdict.reason ?? 'stopping rule';
    return verdict.stop;
  }

  function evaluationsOf(settled: readonly Settled[], evaluated: number): EvalSummary[] {
    const out: EvalSummary[] = [];
    for (const r of settled) {
      if (!('reply' in r)) continue;
      const reply = r.reply;
      if (reply.step === 'evaluate-result' && reply.payload.round === evaluated) out.push(reply.payload.summary);
      if (reply.step === 'train-result' && reply.payload.round === evaluated + 1 && reply.payload.summary !== undefined) out.push(reply.payload.summary);
    }
    return out;
  }

  let stopped = false;
  for (; round <= config.rounds; round++) {
    const t0 = performance.now();
    const callers = participants();
    const available = await ensureSetup(callers);
    available.forEach((id) => seen.add(id));
    if (available.length < minParticipants) {
      throw new RoundError(round, `only ${available.length} participants available, quorum is ${minParticipants}`);
    }
    // Selection randomness is derived per round, so a job resumed after a crash selects exactly as the uninterrupted one.
    const rng: Rng = seededRng(hashString(`${config.seed}|${config.jobId}|select|${round}`));
    const plan = strategy.configureTrain(round, available, rng);
    const global = params;
    const evaluate = pending !== undefined;
    // Differential privacy: stop before a round that would exceed a budget, and tell each platform what to apply.
    const verdict = dp?.beforeRound(round, plan.selected, available.length, numTrain, budgets);
    if (verdict !== undefined && verdict.stop !== undefined) {
      if (evaluate) {
        const evals = await callAll(callers, available, () => ({ step: 'evaluate', from: 'coordinator', to: 'participant', payload: { round: round - 1, params: global } }), timeoutMs, round - 1);
        await complete(evaluationsOf(evals, round - 1), 0);
      }
      stopReason = verdict.stop;
      stopped = true;
      break;
    }
    const instructionsFor = (id: string): TrainInstructions => {
      const local = verdict?.instructions.get(id);
      return local !== undefined ? { ...plan.instructions, privacy: local } : plan.instructions;
    };
    const waitFor = Math.max(minParticipants, Math.ceil((config.waitFraction ?? 1) * plan.selected.length));
    // Participants not selected to train still evaluate the previous round's model.
    const evalOnly = evaluate ? available.filter((id) => !plan.selected.includes(id)) : [];
    const evalPhase = callAll(callers, evalOnly, () => ({ step: 'evaluate', from: 'coordinator', to: 'participant', payload: { round: round - 1, params: global } }), timeoutMs, round - 1);
    let replies: Settled[] = [];
    let secure: SecureRoundOutput | undefined;
    if (aggregation === 'plain') {
      replies = await callAll(
        callers,
        plan.selected,
        (id) => ({ step: 'train', from: 'coordinator', to: 'participant', payload: { round, params: global, instructions: instructionsFor(id), evaluate } }),
        timeoutMs,
        round,
        waitFor < plan.selected.length ? { count: waitFor, accept: (r) => 'reply' in r && r.reply.step === 'train-result' } : undefined,
      );
    } else {
      try {
        if (secureRunner === undefined) throw new ConfigError('privacy.aggregation', `no runner for ${aggregation}`);
        secure = await secureRunner(round)({
          jobId: config.jobId,
          round,
          selected: plan.selected,
          global,
          // Every participant of a secure round gets the same instructions (distributed noise shares are equal).
          instructions: instructionsFor(plan.selected[0] ?? ''),
          evaluate,
          timeoutMs,
          minParticipants,
        });
      } catch (err) {
        await evalPhase.catch(() => undefined);
        throw err instanceof RoundError ? err : new RoundError(round, toErrorInfo(err).message);
      }
    }
    const evalReplies = await evalPhase;
    const trainPhaseMs = performance.now() - t0;
    const secureSummaries = secure !== undefined ? [...secure.meta.values()].flatMap((m) => (m.summary !== undefined ? [m.summary] : [])) : [];
    if (evaluate && (await complete([...secureSummaries, ...evaluationsOf([...replies, ...evalReplies], round - 1)], 0))) {
      // This round's training is discarded: the job ends with the model the rule stopped on.
      stopped = true;
      break;
    }
    const updates: ClientUpdate[] = [];
    const dropped: Dropped[] = [];
    let lossSum = 0;
    let maxTrainMs = 0;
    let lossWeight = 0;
    if (secure !== undefined) {
      dropped.push(...secure.dropped);
      if (secure.survivors.length < minParticipants || !(secure.weightSum > 0)) {
        throw new RoundError(round, `only ${secure.survivors.length} participants' inputs are in the secure sum, quorum is ${minParticipants}` +
          (dropped.length > 0 ? `; dropped: ${dropped.map((d) => `${d.participantId} (${d.reason})`).join('; ')}` : ''));
      }
      const mean = new Float32Array(global.length);
      for (let j = 0; j < mean.length; j++) mean[j] = (global[j] as number) + (secure.weightedDeltaSum[j] as number) / secure.weightSum;
      const problem = checkUpdate(mean, model.numParams, maxNorm);
      if (problem !== null) throw new RoundError(round, `the securely aggregated update is invalid: ${problem}`);
      // Only the sum is known: mean-based strategies (the only ones allowed here) take it as one update.
      updates.push({ participantId: SECURE_AGGREGATE_ID, params: mean, numExamples: secure.survivors.length });
      for (const m of secure.meta.values()) {
        if (Number.isFinite(m.loss)) {
          lossSum += m.loss;
          lossWeight += 1;
        }
        maxTrainMs = Math.max(maxTrainMs, m.trainMs);
      }
    }
    for (const r of replies) {
      if ('error' in r) {
        dropped.push({ participantId: r.id, reason: r.error, flagged: false });
      } else if (r.reply.step === 'error') {
        dropped.push({ participantId: r.id, reason: r.reply.payload.message, flagged: false });
      } else if (r.reply.step !== 'train-result' || r.reply.payload.round !== round) {
        dropped.push({ participantId: r.id, reason: `reply ${r.reply.step} does not answer round ${round}'s train request`, flagged: true });
      } else {
        const p = r.reply.payload;
        const problem = checkUpdate(p.params, model.numParams, maxNorm);
        if (problem !== null) {
          dropped.push({ participantId: r.id, reason: problem, flagged: true });
        } else if (!(p.numExamples > 0) || !Number.isInteger(p.numExamples)) {
          dropped.push({ participantId: r.id, reason: `invalid example count ${p.numExamples}`, flagged: true });
        } else {
          updates.push({ participantId: r.id, params: p.params, numExamples: p.numExamples });
          lossSum += p.loss * p.numExamples;
          lossWeight += p.numExamples;
          maxTrainMs = Math.max(maxTrainMs, p.trainMs);
        }
      }
    }
    if (secure === undefined && updates.length < minParticipants) {
      throw new RoundError(round, `only ${updates.length} valid updates arrived, quorum is ${minParticipants}` +
        (dropped.length > 0 ? `; dropped: ${dropped.map((d) => `${d.participantId} (${d.reason})`).join('; ')}` : ''));
    }
    const ta = performance.now();
    // Central platform-level DP: the coordinator clips each update and noises their mean (trusted-server mode).
    const toAggregate = dp !== undefined && secure === undefined ? dp.centralAggregate(round, global, updates) : updates;
    params = strategy.aggregateTrain(round, global, toAggregate);
    const aggregateMs = performance.now() - ta;
    const received = secure !== undefined ? secure.survivors : updates.map((u) => u.participantId);
    const spent = dp?.afterRound(round, plan.selected, received, available.length, numTrain);
    pending = {
      round,
      selected: plan.selected,
      received,
      dropped,
      ...(aggregation !== 'plain' ? { aggregation } : {}),
      ...(secure?.failedAfterInput !== undefined && secure.failedAfterInput.length > 0 ? { failedAfterInput: secure.failedAfterInput } : {}),
      ...(spent !== undefined ? { privacy: spent } : {}),
      trainLoss: lossSum / lossWeight,
      wallMs: performance.now() - t0,
      maxTrainMs,
      aggregateMs,
      trainPhaseMs,
    };
  }
  if (!stopped && pending !== undefined) {
    // The last round's model has no next round to be evaluated in.
    const tEval = performance.now();
    const callers = participants();
    const last = pending.round;
    const evals = await callAll(callers, [...callers.keys()].filter((id) => ready.has(id)).sort(), () => ({
      step: 'evaluate', from: 'coordinator', to: 'participant', payload: { round: last, params },
    }), timeoutMs, last);
    await complete(evaluationsOf(evals, last), performance.now() - tEval);
  }
  const finalRound = history.length > 0 ? (history[history.length - 1]?.round ?? 0) : 0;
  const callers = participants();
  await callAll(callers, [...callers.keys()].filter((id) => ready.has(id)), () => ({
    step: 'finish', from: 'coordinator', to: 'participant', payload: { rounds: finalRound, reason: stopReason },
  }), timeoutMs, finalRound);
  emit({ type: 'phase', phase: 'done', detail: stopReason });
  return { config, encoder, model, params, rounds: history, stopReason, participants: [...seen].sort() };
}
