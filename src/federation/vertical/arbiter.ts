/**
 * The arbiter (FATE's name; EduFed's coordinator in a vertical job): it runs the job's steps,
 * relays every party-to-party message after checking its roles, and in `secure-lr` deals the
 * correlated randomness (`dealer.ts`). It holds no data and no model.
 *
 * What it sees: agreement keys, feature counts, the label holder's per-epoch training loss, the
 * test-set summary (counts and score histograms, `core/metrics.ts`), the scores of queries it
 * asks for, and the sizes of sealed payloads. In `secure-lr` it also knows every dealer seed, which
 * is why it must not collude with a party (see `gradient-shares.ts`) and why payloads padded with
 * those seeds reach it only sealed. It also forwards each party's aligned row indices at setup:
 * indices into private tables, without identifiers (in a deployment each party's own PSI output).
 */
import { EduFedError, ValidationError } from '../../core/errors.js';
import { metricsFromSummary, type EvalSummary, type Metrics } from '../../core/metrics.js';
import { presenceOf, type VerticalAlignment } from './align.js';
import { BatchSchedule } from './batch-schedule.js';
import { Dealer, secureRandomBytes, type RandomBytes } from './dealer.js';
import { Mailbox } from './mailbox.js';
import type { DirectoryEntry, Endpoint, PartyRole, Presence, Send, VerticalMessage, VerticalTrainConfig } from './protocol.js';
import { isStep, STEP_ROLES } from './protocol.js';
import { checkTrainConfig } from './train-config.js';
import { ARBITER } from './vertical-party.js';

/** A party of the job as the arbiter knows it. */
export interface ArbiterParty {
  readonly id: string;
  readonly role: PartyRole;
}

/** Progress of a job. */
export type VerticalEvent =
  | { readonly kind: 'setup'; readonly ms: number; readonly dims: Readonly<Record<string, number>> }
  | { readonly kind: 'epoch'; readonly epoch: number; readonly loss: number; readonly ms: number; readonly dealerMs: number };

/** Options of an {@link Arbiter}. */
export interface ArbiterOptions {
  /** Sends a message to the party in its `to`. */
  readonly send: Send;
  /** Fresh secret bytes for dealer seeds (the OS CSPRNG by default). */
  readonly randomBytes?: RandomBytes;
  readonly onEvent?: (event: VerticalEvent) => void;
  /** Called with every party-to-party message the arbiter relays (for audit logs and tests). */
  readonly onRelay?: (message: VerticalMessage) => void;
  /** How long to wait for each expected reply before failing the job (default: no limit, as in simulation). */
  readonly timeoutMs?: number;
}

/** One epoch as the arbiter saw it. */
export interface EpochRecord {
  readonly epoch: number;
  /** The label holder's mean training log-loss over the epoch (without the L2 term). */
  readonly loss: number;
  /** Wall time from the epoch's start (dealer's work included) to the last party's end. */
  readonly ms: number;
  /** The dealer's share of `ms`. */
  readonly dealerMs: number;
}

/** A finished training run. */
export interface VerticalTrainResult {
  readonly epochs: readonly EpochRecord[];
  /** The label holder's summary of the test positions, and the metrics from it. */
  readonly summary: EvalSummary;
  readonly metrics: Metrics;
  /** Features per party (the label holder's include its presence indicators). */
  readonly dims: Readonly<Record<string, number>>;
  readonly setupMs: number;
}

/** Drives one vertical job. One object per job. */
export class Arbiter {
  /** The job's plan, as every party receives it. */
  readonly config: VerticalTrainConfig;
  private readonly parties: readonly ArbiterParty[];
  private readonly labelHolder: ArbiterParty;
  private readonly options: ArbiterOptions;
  private readonly mailbox = new Mailbox<VerticalMessage>();
  private directory: readonly DirectoryEntry[] = [];
  private dealer: Dealer | undefined;
  private queries = 0;
  /** Why the job failed, once it has. */
  private failure: EduFedError | undefined;
  private trained = false;

  /**
   * @throws {ConfigError} on an invalid plan.
   * @throws {ValidationError} unless there is exactly one label holder, at least one feature
   *   holder, and no repeated or reserved id.
   */
  constructor(config: VerticalTrainConfig, parties: readonly ArbiterParty[], options: ArbiterOptions) {
    checkTrainConfig(config);
    const ids = new Set<string>();
    for (const p of parties) {
      if (p.id === '' || p.id === ARBITER.id || ids.has(p.id)) throw new ValidationError(p.id, 'party ids must be unique, non-empty and not "arbiter"');
      ids.add(p.id);
    }
    const holders = parties.filter((p) => p.role === 'label-holder');
    const labelHolder = holders[0];
    if (labelHolder === undefined || holders.length !== 1) throw new ValidationError(undefined, `a vertical job needs exactly one label holder, got ${holders.length}`);
    if (!parties.some((p) => p.role === 'feature-holder')) throw new ValidationError(undefined, 'a vertical job needs at least one feature holder');
    this.config = config;
    this.parties = parties;
    this.labelHolder = labelHolder;
    this.options = options;
  }

  private get featureHolders(): readonly ArbiterParty[] {
    return this.parties.filter((p) => p.role === 'feature-holder');
  }

  private endpoint(p: ArbiterParty): Endpoint<PartyRole> {
    return { role: p.role, id: p.id };
  }

  /**
   * Takes a message from a party: relays it when it is addressed to another party, otherwise
   * keeps it for the waiting step. A party's `error` fails the job.
   */
  receive(message: VerticalMessage): void {
    const sender = this.parties.find((p) => p.id === message.from.id);
    const roles = STEP_ROLES[message.step];
    if (sender === undefined || sender.role !== message.from.role || roles === undefined || !roles.from.includes(sender.role)) {
      this.fail(new ValidationError(message.from.id, `unexpected ${String(message.step)} from ${message.from.role} "${message.from.id}"`));
      return;
    }
    if (message.step === 'error') {
      const e = message.payload.error;
      this.fail(new EduFedError('PARTICIPANT', `party "${message.from.id}" failed (${e.code}): ${e.message}`));
      return;
    }
    if (message.to.role !== 'arbiter') {
      const receiver = this.parties.find((p) => p.id === message.to.id);
      if (receiver === undefined || receiver.role !== message.to.role || !roles.to.includes(receiver.role)) {
        this.fail(new ValidationError(message.from.id, `cannot relay ${message.step} to ${message.to.role} "${message.to.id}"`));
        return;
      }
      this.options.onRelay?.(message);
      this.options.send(message);
      return;
    }
    this.mailbox.put(`${message.step}|${message.from.id}`, message);
  }

  private fail(error: EduFedError): void {
    this.failure ??= error;
    this.mailbox.fail(error);
  }

  /** The next `step` from `party`, or a failure of the job after `timeoutMs`. */
  private async next(step: VerticalMessage['step'], party: string): Promise<VerticalMessage> {
    const wait = this.mailbox.take(`${step}|${party}`);
    const ms = this.options.timeoutMs;
    if (ms === undefined) return wait;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new EduFedError('PARTICIPANT', `party "${party}" sent no ${step} within ${ms} ms`);
        this.fail(error);
        reject(error);
      }, ms);
    });
    try {
      return await Promise.race([wait, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async collect<S extends VerticalMessage['step']>(step: S, from: readonly ArbiterParty[]): Promise<Extract<VerticalMessage, { step: S }>[]> {
    const out: Extract<VerticalMessage, { step: S }>[] = [];
    for (const p of from) {
      const m = await this.next(step, p.id);
      if (!isStep(m, step)) throw new ValidationError(p.id, `expected ${step}, got ${m.step}`);
      out.push(m);
    }
    return out;
  }

  private presenceFor(rows: ReadonlyMap<string, Int32Array>): Presence[] {
    return this.featureHolders.map((p) => ({ party: p.id, present: presenceOf(this.rowsOf(rows, p.id)) }));
  }

  private rowsOf(rows: ReadonlyMap<string, Int32Array>, party: string): Int32Array {
    const r = rows.get(party);
    if (r === undefined) throw new ValidationError(party, 'the alignment has no rows for this party');
    return r;
  }

  /**
   * Sets the job up on `alignment`, trains for the configured epochs, and evaluates on the test positions.
   * @throws {EduFedError} code PARTICIPANT when a party reports a failure or misses `timeoutMs`, naming it;
   *   code PROTOCOL on a second call.
   * @throws {ValidationError} on an alignment whose row lists disagree in length or miss a party.
   */
  async train(alignment: VerticalAlignment): Promise<VerticalTrainResult> {
    if (this.trained) throw new EduFedError('PROTOCOL', `job "${this.config.jobId}": an arbiter trains once`);
    this.trained = true;
    const { config } = this;
    const jobId = config.jobId;
    const t0 = performance.now();
    for (const p of this.parties) {
      if (this.rowsOf(alignment.rows, p.id).length !== alignment.n) throw new ValidationError(p.id, `alignment rows: expected ${alignment.n} positions`);
    }
    for (const p of this.parties) this.options.send({ step: 'hello', from: ARBITER, to: this.endpoint(p), payload: { jobId } });
    const hellos = await this.collect('hello-result', this.parties);
    this.directory = hellos.map((h) => ({ id: h.from.id, role: h.from.role, agreementKey: h.payload.agreementKey }));

    const schedule = new BatchSchedule(alignment.nTrain, config.batchSize, config.seed);
    const dealer = config.mode === 'secure-lr' ? new Dealer(alignment.nTrain, schedule.batchSize, this.options.randomBytes ?? secureRandomBytes) : undefined;
    this.dealer = dealer;
    const presence = this.presenceFor(alignment.rows);
    for (const p of this.parties) {
      const maskSeed = dealer !== undefined && p.role === 'feature-holder' ? dealer.dealSeed(p.id) : undefined;
      this.options.send({
        step: 'setup',
        from: ARBITER,
        to: this.endpoint(p),
        payload: {
          config,
          directory: this.directory,
          rows: this.rowsOf(alignment.rows, p.id),
          nTrain: alignment.nTrain,
          ...(p.role === 'label-holder' ? { presence } : {}),
          ...(maskSeed !== undefined ? { maskSeed } : {}),
        },
      });
    }
    const setups = await this.collect('setup-result', this.parties);
    const dims: Record<string, number> = {};
    for (const s of setups) dims[s.from.id] = s.payload.dim;
    if (dealer !== undefined) for (const p of this.featureHolders) dealer.expandMask(p.id, dims[p.id] ?? 0);
    const setupMs = performance.now() - t0;
    this.options.onEvent?.({ kind: 'setup', ms: setupMs, dims });

    const epochs: EpochRecord[] = [];
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      const start = performance.now();
      const order = schedule.nextEpoch();
      const material = dealer?.epochMaterial(schedule, order);
      const dealerMs = performance.now() - start;
      for (const p of this.parties) {
        const m = material === undefined ? undefined : p.role === 'label-holder' ? material.labelHolder : material.featureHolders.get(p.id);
        this.options.send({ step: 'epoch-start', from: ARBITER, to: this.endpoint(p), payload: { jobId, epoch, ...(m !== undefined ? { material: m } : {}) } });
      }
      const ends = await this.collect('epoch-end', this.parties);
      const loss = ends.find((e) => e.from.role === 'label-holder')?.payload.loss ?? Number.NaN;
      const record: EpochRecord = { epoch, loss, ms: performance.now() - start, dealerMs };
      epochs.push(record);
      this.options.onEvent?.({ kind: 'epoch', ...record });
    }

    for (const p of this.parties) this.options.send({ step: 'evaluate', from: ARBITER, to: this.endpoint(p), payload: { jobId } });
    const [result] = await this.collect('evaluate-result', [this.labelHolder]);
    if (result === undefined) throw new EduFedError('INTERNAL', 'no evaluation result');
    return { epochs, summary: result.payload.summary, metrics: metricsFromSummary(result.payload.summary), dims, setupMs };
  }

  /**
   * Joint inference: scores the learners of a query, given each party's own row per learner
   * (−1 where the party does not know the learner; its features are then imputed). A learner
   * unknown to the label holder but known to feature holders is the cold-start case: its score
   * comes from their features, with the label holder's imputed.
   * @throws {EduFedError} code PARTICIPANT when a party fails.
   * @throws {ValidationError} when the row lists miss a party or disagree in length.
   */
  async score(rows: ReadonlyMap<string, Int32Array>): Promise<Float64Array> {
    const jobId = this.config.jobId;
    const queryId = `q${++this.queries}`;
    const n = this.rowsOf(rows, this.labelHolder.id).length;
    for (const p of this.parties) if (this.rowsOf(rows, p.id).length !== n) throw new ValidationError(p.id, `query rows: expected ${n} learners`);
    const presence = this.presenceFor(rows);
    for (const p of this.parties) {
      this.options.send({
        step: 'score',
        from: ARBITER,
        to: this.endpoint(p),
        payload: { jobId, queryId, rows: this.rowsOf(rows, p.id), ...(p.role === 'label-holder' ? { presence } : {}) },
      });
    }
    const [result] = await this.collect('score-result', [this.labelHolder]);
    if (result === undefined || result.payload.queryId !== queryId || result.payload.probabilities.length !== n) {
      throw new ValidationError(this.labelHolder.id, `score-result does not answer query ${queryId} of ${n} learners`);
    }
    return result.payload.probabilities;
  }

  /**
   * Ends the job: every party wipes its secrets; the dealer forgets its masks. After a failure the
   * parties are still told, but not waited for (a failed party may never answer).
   * @throws {EduFedError} code PARTICIPANT when a party fails while finishing.
   */
  async finish(): Promise<void> {
    const jobId = this.config.jobId;
    this.dealer?.wipe();
    for (const p of this.parties) this.options.send({ step: 'finish', from: ARBITER, to: this.endpoint(p), payload: { jobId } });
    if (this.failure === undefined) await this.collect('finish-result', this.parties);
  }
}
