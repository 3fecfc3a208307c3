/**
 * The participant role of a horizontal job: a learning platform that holds its own rows, answers the
 * coordinator's requests, and sends back only aggregates and model parameters. The same object runs
 * inside a simulation and behind the networked transport.
 */
import { DataError, EduFedError, toErrorInfo } from '../core/errors.js';
import { cryptoRng, hashString, seededRng } from '../core/rng.js';
import { summarize, type EvalSummary } from '../core/metrics.js';
import { encode, localStats, type EncoderSpec } from '../data/encoder.js';
import { stratifiedSplit } from '../data/split.js';
import type { RawTable, Table } from '../data/table.js';
import { subsetTable, toTable } from '../data/to-table.js';
import type { Dataset } from '../data/dataset.js';
import { createModel } from '../models/create-model.js';
import type { Model } from '../models/model.js';
import { trainLocal } from '../models/train.js';
import type {
  DataTask,
  EvaluateRequest,
  HorizontalReply,
  HorizontalRequest,
  SetupRequest,
  StatsRequest,
  TrainRequest,
} from '../federation/horizontal/protocol.js';
import { checkPolicy, PolicyError, type ParticipantPolicy } from './policy.js';
import { DEFAULT_DELTA } from '../federation/horizontal/privacy-config.js';
import { dpSgdSchedule, PrivacyLedger, privatizeUpdate, trainDpSgd } from '../privacy/index.js';

/** One job's local state on a participant. */
interface JobState {
  readonly task: DataTask;
  readonly train: Table;
  readonly test: Table;
  encoder?: EncoderSpec;
  model?: Model;
  trainData?: Dataset;
  testData?: Dataset;
  /** FedPer: this participant's own values of the personal blocks. */
  personal?: Float32Array;
  /** Learner-level ε this platform has spent in the job (its own account, checked against its policy). */
  privacy?: PrivacyLedger;
  personalBlocks?: readonly string[];
}

/** The platform's own split: rows whose `column` says "test" are held out. @throws DataError */
function ownSplit(table: Table, column: string): { train: Uint32Array; test: Uint32Array } {
  const values = table.strings.get(column);
  const spec = table.schema.columns.find((c) => c.name === column);
  if (values === undefined || spec?.type !== 'id') {
    throw new DataError({ file: table.source, column }, 'the split column must be declared in the schema with type "id" (so it is never a feature)');
  }
  const train: number[] = [];
  const test: number[] = [];
  values.forEach((v, i) => (v === 'test' ? test : train).push(i));
  return { train: Uint32Array.from(train), test: Uint32Array.from(test) };
}

/** Options of a participant. */
export interface HorizontalParticipantOptions {
  /** Seed for local shuffles; each round derives its own stream from it, the participant id and the round. */
  readonly seed?: number;
  readonly policy?: ParticipantPolicy;
  /**
   * Durable record of the DP this platform applies: `load` returns a job's earlier rounds (so a
   * restarted platform keeps counting its budget), `save` is called after each DP round.
   */
  readonly privacyRecord?: {
    readonly load: (jobId: string) => readonly { readonly round: number; readonly q: number; readonly sigma: number; readonly steps: number }[];
    readonly save: (r: { readonly jobId: string; readonly round: number; readonly unit: 'learner'; readonly q: number; readonly sigma: number; readonly steps: number; readonly epsilon: number; readonly delta: number }) => void;
  };
}

/** A learning platform taking part in horizontal federated jobs. */
export class HorizontalParticipant {
  readonly id: string;
  private readonly raw: RawTable;
  private readonly seed: number;
  private readonly policy: ParticipantPolicy | undefined;
  private readonly privacyRecord: HorizontalParticipantOptions['privacyRecord'];
  private readonly jobs = new Map<string, JobState>();

  constructor(id: string, raw: RawTable, options: HorizontalParticipantOptions = {}) {
    this.id = id;
    this.raw = raw;
    this.seed = options.seed ?? 0;
    this.policy = options.policy;
    this.privacyRecord = options.privacyRecord;
  }

  /** Answers one request; never throws: failures come back as an `error` reply. */
  async handle(jobId: string, req: HorizontalRequest): Promise<HorizontalReply> {
    try {
      return this.dispatch(jobId, req);
    } catch (err) {
      return { step: 'error', from: 'participant', to: 'coordinator', payload: toErrorInfo(err) };
    }
  }

  private dispatch(jobId: string, req: HorizontalRequest): HorizontalReply {
    switch (req.step) {
      case 'stats':
        return this.stats(jobId, req);
      case 'setup':
        return this.setup(jobId, req);
      case 'train':
        return this.train(jobId, req);
      case 'evaluate':
        return this.evaluate(jobId, req);
      case 'finish':
        // Local state stays until forget(): the platform (or a simulation's report) may still use the final model.
        return { step: 'finish-result', from: 'participant', to: 'coordinator', payload: {} };
    }
  }

  private stats(jobId: string, req: StatsRequest): HorizontalReply {
    const { task } = req.payload;
    if (this.policy !== undefined) checkPolicy(this.policy, { schema: task.schema });
    const existing = this.jobs.get(jobId);
    if (existing !== undefined && JSON.stringify(existing.task) === JSON.stringify(task)) {
      // A restarted coordinator asks again: same task, same split; keep local state (FedPer's personal layers).
      return { step: 'stats-result', from: 'participant', to: 'coordinator', payload: { stats: localStats(existing.train) } };
    }
    const table = toTable(this.raw, task.schema);
    const split = task.splitColumn !== undefined ? ownSplit(table, task.splitColumn) : stratifiedSplit(table.labels, task.testFraction, task.splitSeed);
    const state: JobState = { task, train: subsetTable(table, split.train), test: subsetTable(table, split.test) };
    this.jobs.set(jobId, state);
    return { step: 'stats-result', from: 'participant', to: 'coordinator', payload: { stats: localStats(state.train) } };
  }

  private setup(jobId: string, req: SetupRequest): HorizontalReply {
    const state = this.job(jobId, 'setup');
    const { encoder, model } = req.payload;
    state.encoder = encoder;
    const trainData = encode(state.train, encoder);
    const testData = encode(state.test, encoder);
    state.trainData = trainData;
    state.testData = testData;
    state.model = createModel(model, encoder.dim, encoder.numClasses);
    return {
      step: 'setup-result',
      from: 'participant',
      to: 'coordinator',
      payload: {
        numTrain: trainData.n,
        numTest: testData.n,
        dim: encoder.dim,
        ...(this.policy?.maxEpsilon !== undefined ? { maxEpsilon: this.policy.maxEpsilon } : {}),
      },
    };
  }

  private train(jobId: string, req: TrainRequest): HorizontalReply {
    const state = this.job(jobId, 'train');
    const { model, trainData } = this.ready(state, jobId);
    const { round, params, instructions } = req.payload;
    if (this.policy !== undefined) checkPolicy(this.policy, { round });
    if (params.length !== model.numParams) {
      throw new EduFedError('PROTOCOL', `round ${round}: global model has ${params.length} parameters, expected ${model.numParams}`);
    }
    // The received model is the previous round's global model: evaluate it before training changes anything local.
    const summary = req.payload.evaluate === true ? this.summarize(jobId, params) : undefined;
    const personalBlocks = instructions.personalBlocks ?? [];
    const start = this.withPersonal(state, model, params, personalBlocks);
    const privacy = instructions.privacy;
    const dpSgd = privacy?.dpSgd;
    const t0 = performance.now();
    let result: { params: Float32Array; meanLoss: number; numExamples: number };
    /** The trained parameters before any update privatisation: FedPer's personal layers are kept from these. */
    let trainedLocally: Float32Array;
    if (dpSgd !== undefined) {
      // Learner-level DP: this platform checks its own budget before any of its rows are touched.
      const schedule = dpSgdSchedule(trainData.n, instructions.batchSize, instructions.epochs);
      const entry = { round, unit: 'learner' as const, participantId: this.id, q: schedule.sampleRate, sigma: dpSgd.noiseMultiplier, steps: schedule.steps };
      const ledger = (state.privacy ??= this.restoredLedger(jobId, privacy?.delta ?? DEFAULT_DELTA));
      const budget = this.policy?.maxEpsilon;
      if (budget !== undefined) {
        const check = ledger.wouldExceed(budget, entry);
        if (check.exceeds) throw new PolicyError(`${check.message} set by this platform's policy`);
      }
      // Batch sampling and noise both come from the CSPRNG: amplification by sampling assumes the batches stay secret.
      const trained = trainDpSgd(model, start, trainData, instructions, dpSgd, cryptoRng(), cryptoRng(), { anchor: start });
      if (!ledger.entries().some((e) => e.round === round)) {
        ledger.record(entry);
        this.privacyRecord?.save({ jobId, round, unit: 'learner', q: entry.q, sigma: entry.sigma, steps: entry.steps, epsilon: ledger.spent('learner', this.id).epsilon, delta: ledger.delta });
      }
      // The mean loss is computed from raw rows without noise: it is not sent under DP.
      result = { params: trained.params, meanLoss: NaN, numExamples: trained.numExamples };
    } else {
      const rng = seededRng(hashString(`${this.seed}|${this.id}|${jobId}|${round}`));
      result = trainLocal(model, start, trainData, instructions, rng, { anchor: start });
    }
    trainedLocally = result.params;
    if (privacy?.clipUpdate !== undefined) {
      // Platform-level (distributed) or local DP: clip the update and add this platform's noise before it leaves.
      const trained = result.params.slice();
      for (const block of model.layout) {
        // Personal layers never leave the platform: they take no part in the clipped update.
        if (personalBlocks.includes(block.name)) trained.set(params.subarray(block.offset, block.offset + block.length), block.offset);
      }
      const noised = privatizeUpdate(params, trained, { clipNorm: privacy.clipUpdate, noiseStd: privacy.updateNoiseStd ?? 0 }, cryptoRng(), this.id);
      result = { params: noised.params, meanLoss: NaN, numExamples: result.numExamples };
    }
    const trainMs = performance.now() - t0;
    let sent = result.params;
    if (personalBlocks.length > 0) {
      state.personal = trainedLocally.slice();
      state.personalBlocks = personalBlocks;
      // Personal layers stay here: the coordinator receives zeros in their place.
      sent = result.params.slice();
      for (const block of model.layout) {
        if (personalBlocks.includes(block.name)) sent.fill(0, block.offset, block.offset + block.length);
      }
    }
    return {
      step: 'train-result',
      from: 'participant',
      to: 'coordinator',
      payload: { round, params: sent, numExamples: result.numExamples, loss: result.meanLoss, trainMs, ...(summary !== undefined ? { summary } : {}) },
    };
  }

  private evaluate(jobId: string, req: EvaluateRequest): HorizontalReply {
    const summary = this.summarize(jobId, req.payload.params);
    return { step: 'evaluate-result', from: 'participant', to: 'coordinator', payload: { round: req.payload.round, summary } };
  }

  /** Scores a global model (with this participant's personal blocks, if any) on the local test split. */
  private summarize(jobId: string, global: Float32Array): EvalSummary {
    const { model, testData } = this.ready(this.job(jobId, 'evaluate'), jobId);
    const probs = model.predict(this.effectiveParams(jobId, global), testData.x, testData.n);
    return summarize(probs, testData.y, testData.n, model.numClasses);
  }

  /** This platform's learner-level ledger of a job, rebuilt from its durable record. */
  private restoredLedger(jobId: string, delta: number): PrivacyLedger {
    const ledger = new PrivacyLedger({ delta });
    for (const r of this.privacyRecord?.load(jobId) ?? []) ledger.record({ round: r.round, unit: 'learner', participantId: this.id, q: r.q, sigma: r.sigma, steps: r.steps });
    return ledger;
  }

  /** Drops a finished job's local state. */
  forget(jobId: string): void {
    this.jobs.delete(jobId);
  }

  /**
   * The parameters this participant actually predicts with: the global model, with its own personal
   * blocks (FedPer) in place. Used by evaluation, and by the simulation's report.
   */
  effectiveParams(jobId: string, global: Float32Array): Float32Array {
    const state = this.job(jobId, 'evaluate');
    const model = state.model;
    if (model === undefined || state.personalBlocks === undefined) return global;
    return this.withPersonal(state, model, global, state.personalBlocks);
  }

  /** The encoded local splits of a job (simulation and reports only; never sent anywhere). */
  localData(jobId: string): { train: Dataset; test: Dataset; model: Model } {
    const state = this.job(jobId, 'report');
    const { model, trainData, testData } = this.ready(state, jobId);
    return { train: trainData, test: testData, model };
  }

  private withPersonal(state: JobState, model: Model, global: Float32Array, personalBlocks: readonly string[]): Float32Array {
    const personal = state.personal;
    if (personalBlocks.length === 0 || personal === undefined) return global;
    const merged = global.slice();
    for (const block of model.layout) {
      if (personalBlocks.includes(block.name)) {
        merged.set(personal.subarray(block.offset, block.offset + block.length), block.offset);
      }
    }
    return merged;
  }

  private job(jobId: string, step: string): JobState {
    const state = this.jobs.get(jobId);
    if (state === undefined) {
      throw new EduFedError('PROTOCOL', `participant "${this.id}": ${step} for job "${jobId}" before its stats step`);
    }
    return state;
  }

  private ready(state: JobState, jobId: string): { model: Model; trainData: Dataset; testData: Dataset } {
    const { model, trainData, testData } = state;
    if (model === undefined || trainData === undefined || testData === undefined) {
      throw new EduFedError('PROTOCOL', `participant "${this.id}": job "${jobId}" used before its setup step`);
    }
    return { model, trainData, testData };
  }
}
