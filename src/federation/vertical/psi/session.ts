/**
 * The two PSI roles as objects that run the protocol of protocol.ts over an injected `send`
 * function; incoming messages are handed to `deliver`. The same objects run in simulation (two
 * roles wired to each other, possibly through a relay) and in deployment (the coordinator relays
 * envelopes between platforms).
 *
 * Streaming and memory: identifiers are read, hashed and sent batch by batch; at most `window`
 * batches per direction are unacknowledged and at most 2 × compute parallelism (the feature holder:
 * `prefetch`) are being computed, so memory is the O(n) typed-array indexes of ecdh-psi.ts — about
 * 48 bytes per row at the label holder, 30 at the feature holder (+16 per label-holder identifier
 * under `cardinality`) — plus a constant. No identifier string is kept.
 *
 * The label holder's stream goes first; the feature holder streams once it has answered all of it
 * (the label holder's index must be complete before it is probed). A deployed feature holder
 * hashes its own batches ahead meanwhile (`prefetch`), so it is not idle while it waits.
 */
import { generateX25519, type X25519KeyPair } from '../../../crypto/key-agreement.js';
import { ConfigError, EduFedError, toErrorInfo, ValidationError } from '../../../core/errors.js';
import { cryptoRng, permutation } from '../../../core/rng.js';
import type { PsiCompute, PsiSecretHandle } from './compute.js';
import {
  DEFAULT_BATCH_SIZE,
  fingerprintsOf,
  itemBatches,
  itemPrefix,
  MatchIndex,
  OwnItems,
  planStages,
  psiParamsDigest,
  ShuffleBuffer,
  type ItemBatch,
  type PsiParams,
  type PsiReveal,
  type PsiStagePlan,
} from './ecdh-psi.js';
import { FINGERPRINT_BYTES } from './fingerprint-set.js';
import { ELEMENT_BYTES } from './group.js';
import { idColumnIndex, type IdSource } from './id-source.js';
import { createNormalizer } from './normalize.js';
import {
  peerRole,
  PSI_PROTOCOL_VERSION,
  PsiChannel,
  type PsiHello,
  type PsiPair,
  type PsiRelayed,
  type PsiRole,
  type PsiSealedEnvelope,
  type PsiSealedMessage,
  type PsiSealedStep,
} from './protocol.js';

/** Unacknowledged batches per direction, by default. */
export const DEFAULT_WINDOW = 4;
/** Feature-holder batches computed ahead, by default. */
export const DEFAULT_PREFETCH = 16;
/** Sealed messages that may wait for an earlier sequence number before the peer is cut off. */
const MAX_OUT_OF_ORDER = 1024;

/** Progress of one role, reported after each batch. */
export interface PsiProgress {
  readonly role: PsiRole;
  readonly stage: number;
  readonly column: string;
  /** `own`: this side's identifiers sent; `peer`: the peer's identifiers processed. */
  readonly phase: 'own' | 'peer';
  /** Rows read (`own`) or peer identifiers processed (`peer`) so far in the stage. */
  readonly done: number;
  /** Rows to read (`own`); undefined for `peer` (the peer's total is known only at its end). */
  readonly total: number | undefined;
}

/** What a role is given. */
export interface PsiSessionOptions {
  readonly pair: PsiPair;
  readonly params: PsiParams;
  /** This platform's identifiers; its column names are the parameters' logical names. */
  readonly ids: IdSource;
  readonly compute: PsiCompute;
  /** Hands a message to the coordinator (or, in simulation, to the peer). Awaited: backpressure. */
  readonly send: (message: PsiRelayed) => void | Promise<void>;
  /** Identifiers per batch; default {@link DEFAULT_BATCH_SIZE}. */
  readonly batchSize?: number;
  /** Unacknowledged batches per direction; default {@link DEFAULT_WINDOW}. */
  readonly window?: number;
  /**
   * Feature holder only: own batches hashed and blinded ahead while the label holder's stream is
   * served (memory ≈ 36 bytes × batchSize each); default {@link DEFAULT_PREFETCH}.
   */
  readonly prefetch?: number;
  readonly onProgress?: (p: PsiProgress) => void;
  readonly signal?: AbortSignal;
}

/** One stage as this side saw it. */
export interface PsiStageSummary {
  readonly column: string;
  /** Distinct identifiers this side entered. */
  readonly ownItems: number;
  /** Rows of this side dropped as duplicates (local knowledge only). */
  readonly ownDuplicates: number;
  /** Distinct identifiers the peer entered — a size every PSI of this kind reveals. */
  readonly peerItems: number;
  /** Intersection size of the stage, when this side learns it. */
  readonly matched: number | undefined;
}

/** What a role ends with. */
export interface PsiResult {
  readonly role: PsiRole;
  readonly reveal: PsiReveal;
  /**
   * This side's rows in the intersection, in the canonical order (stage by stage): with reveal
   * `both`, `rows[k]` here and `rows[k]` at the peer are the same learner. Undefined when this side
   * learns no rows (`cardinality`, and the feature holder under `label-holder`).
   */
  readonly rows: Uint32Array | undefined;
  /** Intersection size, when this side learns it. */
  readonly size: number | undefined;
  readonly stages: readonly PsiStageSummary[];
}

type SealedOf<S extends PsiSealedStep> = Extract<PsiSealedMessage, { step: S }>;

/** A FIFO of one step's messages with async takers; rejects every taker once the session fails. */
class StepQueue<T> {
  private readonly items: T[] = [];
  private readonly takers: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  private failure: unknown;
  private failed = false;

  push(v: T): void {
    const t = this.takers.shift();
    if (t !== undefined) t.resolve(v);
    else this.items.push(v);
  }

  take(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift() as T);
    if (this.failed) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => this.takers.push({ resolve, reject }));
  }

  fail(err: unknown): void {
    this.failed = true;
    this.failure = err;
    for (const t of this.takers.splice(0)) t.reject(err);
  }
}

/** Credits for unacknowledged batches. */
class Window {
  private free: number;
  private readonly waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private failure: unknown;
  private failed = false;

  constructor(size: number) {
    this.free = size;
  }

  acquire(): Promise<void> {
    if (this.failed) return Promise.reject(this.failure);
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  release(): void {
    const w = this.waiting.shift();
    if (w !== undefined) w.resolve();
    else this.free++;
  }

  fail(err: unknown): void {
    this.failed = true;
    this.failure = err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }
}

function concat(parts: readonly Uint32Array[]): Uint32Array {
  const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Marks a promise as handled now (it is awaited later, in order), so an early rejection cannot go unhandled. */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

function positiveInt(v: number, field: string, max: number): number {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new ConfigError(field, `expected an integer in 1 … ${max}, got ${v}`);
  return v;
}

/** What the two roles share: hello, sealed channel, ordered delivery, failure, batching. */
abstract class PsiSession {
  protected readonly peer: PsiRole;
  protected readonly batchSize: number;
  protected readonly windowSize: number;
  protected readonly inFlight: number;
  protected readonly prefetch: number;
  protected secret: PsiSecretHandle | undefined;
  protected readonly windows = new Set<Window>();
  private channel: PsiChannel | undefined;
  private keyPair: X25519KeyPair | undefined;
  private readonly hello = new StepQueue<PsiHello>();
  private readonly queues = new Map<PsiSealedStep, StepQueue<PsiSealedMessage>>();
  private readonly early: PsiSealedEnvelope[] = [];
  private readonly outOfOrder = new Map<number, PsiSealedEnvelope>();
  private failure: unknown;
  private started = false;
  private helloSeen = false;

  constructor(
    readonly role: PsiRole,
    protected readonly options: PsiSessionOptions,
  ) {
    this.peer = peerRole(role);
    this.batchSize = positiveInt(options.batchSize ?? DEFAULT_BATCH_SIZE, 'batchSize', 1 << 20);
    this.windowSize = positiveInt(options.window ?? DEFAULT_WINDOW, 'window', 1024);
    this.inFlight = 2 * options.compute.parallelism;
    this.prefetch = Math.max(this.inFlight, positiveInt(options.prefetch ?? DEFAULT_PREFETCH, 'prefetch', 1 << 16));
    if (options.compute.suite !== options.params.suite) {
      throw new ConfigError('compute', `the compute backend runs ${options.compute.suite}, the parameters say ${options.params.suite}`);
    }
    for (const c of options.params.columns) idColumnIndex(options.ids, c.name);
    const abort = (): void => this.fail(new EduFedError('PROTOCOL', `PSI ${role}: aborted`));
    if (options.signal?.aborted === true) abort();
    else options.signal?.addEventListener('abort', abort, { once: true });
  }

  /** Hands the session a message from the peer (in the order the relay delivered it). */
  deliver(message: PsiRelayed): void {
    if (this.failure !== undefined) return;
    try {
      if (message.to !== this.role || message.from !== this.peer) {
        throw new ValidationError(this.peer, `${message.step} from ${message.from} to ${message.to} reached the ${this.role}`);
      }
      if (message.step === 'psi-hello') {
        if (this.helloSeen) throw new ValidationError(this.peer, 'a second psi-hello (keys cannot change within a PSI)');
        this.helloSeen = true;
        this.hello.push(message);
      } else if (message.step === 'psi-error') {
        this.fail(new EduFedError('PARTICIPANT', `PSI ${this.peer} failed: ${message.payload.code}: ${message.payload.message}`), false);
      } else if (this.channel === undefined) {
        if (this.early.length >= MAX_OUT_OF_ORDER) throw new ValidationError(this.peer, 'too many sealed messages before the hello');
        this.early.push(message);
      } else this.accept(message);
    } catch (err) {
      this.fail(err);
    }
  }

  private accept(env: PsiSealedEnvelope): void {
    const channel = this.channel as PsiChannel;
    if (env.payload.seq !== channel.expectedSeq) {
      if (env.payload.seq < channel.expectedSeq || this.outOfOrder.has(env.payload.seq)) throw new ValidationError(this.peer, `${env.step}: sequence number ${env.payload.seq} replayed`);
      if (this.outOfOrder.size >= MAX_OUT_OF_ORDER) throw new ValidationError(this.peer, `sequence number ${channel.expectedSeq} never arrived`);
      this.outOfOrder.set(env.payload.seq, env);
      return;
    }
    let next: PsiSealedEnvelope | undefined = env;
    while (next !== undefined) {
      const msg = channel.open(next);
      this.queue(msg.step).push(msg);
      next = this.outOfOrder.get(channel.expectedSeq);
      this.outOfOrder.delete(channel.expectedSeq);
    }
  }

  private queue(step: PsiSealedStep): StepQueue<PsiSealedMessage> {
    let q = this.queues.get(step);
    if (q === undefined) {
      q = new StepQueue<PsiSealedMessage>();
      if (this.failure !== undefined) q.fail(this.failure);
      this.queues.set(step, q);
    }
    return q;
  }

  /** The next message of `step` from the peer. */
  protected async next<S extends PsiSealedStep>(step: S): Promise<SealedOf<S>> {
    const msg = await this.queue(step).take();
    // The queue of step S only ever holds messages whose step is S.
    if (msg.step !== step) throw new EduFedError('INTERNAL', `queue of ${step} held ${msg.step}`);
    return msg as SealedOf<S>;
  }

  /** Checks a batch header: the stage, and batches numbered 0, 1, 2, … */
  protected expectBatch(msg: SealedOf<'psi-blinded' | 'psi-double-blinded' | 'psi-shuffled' | 'psi-peer-blinded' | 'psi-peer-ack'>, stage: number, batch: number): void {
    if (msg.payload.stage !== stage || msg.payload.batch !== batch) {
      throw new ValidationError(this.peer, `${msg.step}: stage ${msg.payload.stage} batch ${msg.payload.batch}, expected stage ${stage} batch ${batch}`);
    }
  }

  protected async sendSealed(msg: PsiSealedMessage): Promise<void> {
    this.throwIfFailed();
    await this.options.send((this.channel as PsiChannel).seal(msg));
  }

  protected newWindow(): Window {
    const w = new Window(this.windowSize);
    if (this.failure !== undefined) w.fail(this.failure);
    this.windows.add(w);
    return w;
  }

  protected throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Records the first failure, wakes every waiter with it and, unless it came from the peer, tells the peer. */
  protected fail(err: unknown, tellPeer = true): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.hello.fail(err);
    for (const q of this.queues.values()) q.fail(err);
    for (const w of this.windows) w.fail(err);
    if (tellPeer && this.started) {
      const info = toErrorInfo(err);
      void Promise.resolve()
        .then(() => this.options.send({ step: 'psi-error', from: this.role, to: this.peer, payload: info }))
        .catch(() => undefined);
    }
  }

  /** Runs `work`, turning a failure into a session failure (so every waiter wakes). */
  protected guard(work: Promise<unknown>): Promise<void> {
    return work.then(
      () => undefined,
      (err: unknown) => {
        this.fail(err);
        throw err;
      },
    );
  }

  protected progress(stage: PsiStagePlan, phase: 'own' | 'peer', done: number, total: number | undefined): void {
    this.options.onProgress?.({ role: this.role, stage: stage.stage, column: this.options.params.columns[stage.column]?.name ?? '', phase, done, total });
  }

  /** Own identifiers of a stage, as batches of (rows, messages). */
  protected batches(stage: PsiStagePlan, order: Uint32Array | undefined, exclude: Uint8Array | undefined): Generator<ItemBatch> {
    const column = this.options.params.columns[stage.column];
    if (column === undefined) throw new EduFedError('INTERNAL', `no column ${stage.column}`);
    return itemBatches({
      source: this.options.ids,
      column: idColumnIndex(this.options.ids, column.name),
      normalize: createNormalizer(column.rule),
      prefix: itemPrefix(this.options.params.salt, column.name),
      ...(order === undefined ? {} : { order }),
      ...(exclude === undefined ? {} : { exclude }),
      batchSize: this.batchSize,
    });
  }

  /**
   * Runs the protocol to its end.
   * @throws ConfigError when the peer's parameters differ; ValidationError for a malformed or
   *   out-of-protocol message; EduFedError (PARTICIPANT) when the peer reports a failure.
   */
  async run(): Promise<PsiResult> {
    if (this.started) throw new EduFedError('INTERNAL', `PSI ${this.role}: run() called twice`);
    this.started = true;
    try {
      this.throwIfFailed();
      this.secret = await this.options.compute.createSecret();
      await this.handshake();
      return await this.protocol();
    } catch (err) {
      this.fail(err);
      throw err;
    } finally {
      if (this.secret !== undefined) this.options.compute.destroySecret(this.secret);
      this.keyPair = undefined;
    }
  }

  private async handshake(): Promise<void> {
    this.keyPair = generateX25519();
    const digest = psiParamsDigest(this.options.params);
    await this.options.send({ step: 'psi-hello', from: this.role, to: this.peer, payload: { version: PSI_PROTOCOL_VERSION, publicKey: this.keyPair.publicKey, paramsDigest: digest } });
    const hello = await this.hello.take();
    if (hello.payload.version !== PSI_PROTOCOL_VERSION) throw new ConfigError('version', `the ${this.peer} speaks PSI v${hello.payload.version}, this platform v${PSI_PROTOCOL_VERSION}`);
    if (hello.payload.paramsDigest !== digest) {
      throw new ConfigError('params', `the ${this.peer}'s PSI parameters differ from this platform's (suite, reveal, columns and rules, or salt)`);
    }
    this.channel = PsiChannel.fromHello(this.keyPair.privateKey, hello.payload.publicKey, this.options.pair, this.role);
    for (const env of this.early.splice(0)) this.accept(env);
  }

  protected abstract protocol(): Promise<PsiResult>;

  /** One stage (one ID column): this role's side of the exchange; `exclude` marks rows already matched. */
  protected abstract stage(plan: PsiStagePlan, exclude: Uint8Array | undefined): Promise<{ rows: Uint32Array; summary: PsiStageSummary }>;

  /**
   * Runs every stage in order; where `skipMatched(plan)` holds, rows an earlier stage matched take
   * no part (match on any column). Returns the matched rows of all stages and each stage's summary.
   */
  protected async runStages(skipMatched: (plan: PsiStagePlan) => boolean): Promise<{ parts: Uint32Array[]; stages: PsiStageSummary[] }> {
    const matchedRows = new Uint8Array(this.options.ids.rows);
    const parts: Uint32Array[] = [];
    const stages: PsiStageSummary[] = [];
    for (const plan of planStages(this.options.params)) {
      const r = await this.stage(plan, skipMatched(plan) ? matchedRows : undefined);
      stages.push(r.summary);
      for (const row of r.rows) matchedRows[row] = 1;
      parts.push(r.rows);
    }
    return { parts, stages };
  }
}

/**
 * The label holder: streams a·H(x), indexes the returned b·a·H(x), double-blinds the feature
 * holder's b·H(y) and matches; tells the feature holder what its reveal option allows.
 */
export class LabelHolderPsi extends PsiSession {
  /** @throws ConfigError for bad options or an ID source lacking a parameter column. */
  constructor(options: PsiSessionOptions) {
    super('label-holder', options);
  }

  protected async protocol(): Promise<PsiResult> {
    const { params } = this.options;
    const { parts, stages } = await this.runStages((plan) => plan.excludeLabelMatched);
    const size = stages.reduce((s, st) => s + (st.matched ?? 0), 0);
    return { role: 'label-holder', reveal: params.reveal, rows: params.reveal === 'cardinality' ? undefined : concat(parts), size, stages };
  }

  protected async stage(plan: PsiStagePlan, exclude: Uint8Array | undefined): Promise<{ rows: Uint32Array; summary: PsiStageSummary }> {
    const { params, ids, compute } = this.options;
    const secret = this.secret as PsiSecretHandle;
    const cardinality = params.reveal === 'cardinality';
    const own = new OwnItems(ids.rows);
    const index = new MatchIndex(ids.rows);
    const window = this.newWindow();
    const sentSizes: number[] = [];
    let lastBatch = -1;

    // Step 1: stream a·H(x), at most `window` batches unanswered.
    const stream = async (): Promise<void> => {
      let batch = 0;
      let total = 0;
      const pending: { rows: Uint32Array; walked: number; blinded: Promise<Uint8Array> }[] = [];
      const flush = async (): Promise<void> => {
        const head = pending.shift();
        if (head === undefined) return;
        const elements = own.admit(head.rows, await head.blinded);
        if (elements.length === 0) return;
        await window.acquire();
        total += elements.length / ELEMENT_BYTES;
        sentSizes.push(elements.length / ELEMENT_BYTES);
        await this.sendSealed({ step: 'psi-blinded', from: 'label-holder', to: 'feature-holder', payload: { stage: plan.stage, batch: batch++, last: false, total, elements } });
        this.progress(plan, 'own', head.walked, ids.rows);
      };
      for (const b of this.batches(plan, undefined, exclude)) {
        this.throwIfFailed();
        pending.push({ rows: b.rows, walked: b.walked, blinded: later(compute.hashBlind(secret, b.messages)) });
        if (pending.length >= this.inFlight) await flush();
      }
      while (pending.length > 0) await flush();
      this.progress(plan, 'own', ids.rows, ids.rows);
      await window.acquire();
      sentSizes.push(0);
      lastBatch = batch;
      await this.sendSealed({ step: 'psi-blinded', from: 'label-holder', to: 'feature-holder', payload: { stage: plan.stage, batch, last: true, total, elements: new Uint8Array(0) } });
    };

    // Step 2: the answers, in order; they index b·a·H(x) by position (or only acknowledge).
    const answers = async (): Promise<void> => {
      for (let batch = 0; ; batch++) {
        const m = await this.next('psi-double-blinded');
        this.expectBatch(m, plan.stage, batch);
        const expected = cardinality ? 0 : (sentSizes[batch] ?? 0) * FINGERPRINT_BYTES;
        if (m.payload.fingerprints.length !== expected) throw new ValidationError(this.peer, `psi-double-blinded batch ${batch}: ${m.payload.fingerprints.length} bytes, expected ${expected}`);
        if (!cardinality) index.addOwn(m.payload.fingerprints);
        window.release();
        if (batch === lastBatch) return;
      }
    };
    await Promise.all([this.guard(stream()), this.guard(answers())]);
    this.windows.delete(window);

    // Step 3 (cardinality): the same values, shuffled by the feature holder.
    if (cardinality) {
      for (let batch = 0; ; batch++) {
        const m = await this.next('psi-shuffled');
        this.expectBatch(m, plan.stage, batch);
        index.addOwn(m.payload.fingerprints);
        if (m.payload.total !== index.ownSize) throw new ValidationError(this.peer, `psi-shuffled: total ${m.payload.total}, counted ${index.ownSize}`);
        if (m.payload.last) break;
      }
    }
    if (index.ownSize !== own.size) throw new ValidationError(this.peer, `returned ${index.ownSize} double-blinded values for ${own.size} identifiers`);

    // Step 4: double-blind the feature holder's b·H(y) in arrival order and probe.
    let peerItems = 0;
    let tail: Promise<void> = Promise.resolve();
    for (let batch = 0; ; batch++) {
      const m = await this.next('psi-peer-blinded');
      this.expectBatch(m, plan.stage, batch);
      const first = peerItems;
      const n = m.payload.elements.length / ELEMENT_BYTES;
      peerItems += n;
      if (m.payload.total !== peerItems) throw new ValidationError(this.peer, `psi-peer-blinded batch ${batch}: total ${m.payload.total}, counted ${peerItems}`);
      const blinded = n > 0 ? later(compute.blind(secret, m.payload.elements)) : Promise.resolve(new Uint8Array(0));
      tail = tail.then(async () => {
        index.probe(fingerprintsOf(await blinded), first);
        await this.sendSealed({ step: 'psi-peer-ack', from: 'label-holder', to: 'feature-holder', payload: { stage: plan.stage, batch } });
        this.progress(plan, 'peer', first + n, undefined);
      });
      void this.guard(tail).catch(() => undefined);
      if (m.payload.last) break;
    }
    await tail;

    // Step 5: what the feature holder learns.
    const { own: ownPositions, peer: peerPositions } = index.canonical();
    const count = ownPositions.length;
    const payload =
      params.reveal === 'both'
        ? { stage: plan.stage, count, positions: peerPositions }
        : params.reveal === 'cardinality'
          ? { stage: plan.stage, count, positions: new Uint32Array(0) }
          : { stage: plan.stage, positions: new Uint32Array(0) };
    await this.sendSealed({ step: 'psi-stage-result', from: 'label-holder', to: 'feature-holder', payload });
    const rows = cardinality ? new Uint32Array(0) : Uint32Array.from(ownPositions, (p) => own.row(p, this.role));
    return {
      rows,
      summary: { column: params.columns[plan.column]?.name ?? '', ownItems: own.size, ownDuplicates: own.duplicates, peerItems, matched: count },
    };
  }
}

/**
 * The feature holder: double-blinds the label holder's a·H(x), streams b·H(y) in a random order,
 * and learns what the reveal option allows.
 */
export class FeatureHolderPsi extends PsiSession {
  /** @throws ConfigError for bad options or an ID source lacking a parameter column. */
  constructor(options: PsiSessionOptions) {
    super('feature-holder', options);
  }

  protected async protocol(): Promise<PsiResult> {
    const { params } = this.options;
    const { parts, stages } = await this.runStages((plan) => plan.excludeFeatureMatched);
    const learnsRows = params.reveal === 'both';
    const learnsSize = params.reveal !== 'label-holder';
    return {
      role: 'feature-holder',
      reveal: params.reveal,
      rows: learnsRows ? concat(parts) : undefined,
      size: learnsSize ? stages.reduce((s, st) => s + (st.matched ?? 0), 0) : undefined,
      stages,
    };
  }

  protected async stage(plan: PsiStagePlan, exclude: Uint8Array | undefined): Promise<{ rows: Uint32Array; summary: PsiStageSummary }> {
    const { params, ids, compute } = this.options;
    const secret = this.secret as PsiSecretHandle;
    const cardinality = params.reveal === 'cardinality';
    const own = new OwnItems(ids.rows);
    // A random walk over the rows: the label holder learns stream positions, never row order.
    const order = permutation(ids.rows, cryptoRng());

    // Own identifiers are hashed and blinded ahead (bounded) while the label holder's stream is served.
    const source = this.batches(plan, order, exclude);
    const ahead: { rows: Uint32Array; walked: number; blinded: Promise<Uint8Array> }[] = [];
    let sourceDone = false;
    const refill = (): void => {
      while (!sourceDone && ahead.length < this.prefetch) {
        const r = source.next();
        if (r.done === true) sourceDone = true;
        else ahead.push({ rows: r.value.rows, walked: r.value.walked, blinded: later(compute.hashBlind(secret, r.value.messages)) });
      }
    };
    refill();

    // Steps 1–2: answer each batch of a·H(x) with b·a·H(x), in order.
    const shuffle = cardinality ? new ShuffleBuffer() : undefined;
    let labelItems = 0;
    let answered: Promise<void> = Promise.resolve();
    for (let batch = 0; ; batch++) {
      const m = await this.next('psi-blinded');
      this.expectBatch(m, plan.stage, batch);
      const n = m.payload.elements.length / ELEMENT_BYTES;
      labelItems += n;
      if (m.payload.total !== labelItems) throw new ValidationError(this.peer, `psi-blinded batch ${batch}: total ${m.payload.total}, counted ${labelItems}`);
      const blinded = n > 0 ? later(compute.blind(secret, m.payload.elements)) : Promise.resolve(new Uint8Array(0));
      answered = answered.then(async () => {
        const fingerprints = fingerprintsOf(await blinded);
        shuffle?.add(fingerprints);
        const reply = shuffle === undefined ? fingerprints : new Uint8Array(0);
        await this.sendSealed({ step: 'psi-double-blinded', from: 'feature-holder', to: 'label-holder', payload: { stage: plan.stage, batch, fingerprints: reply } });
        refill();
      });
      void this.guard(answered).catch(() => undefined);
      if (m.payload.last) break;
    }
    await answered;

    // Step 3 (cardinality): the label holder's values in a random order.
    if (shuffle !== undefined) {
      let batch = 0;
      let total = 0;
      for (const fingerprints of shuffle.batches(this.batchSize)) {
        total += fingerprints.length / FINGERPRINT_BYTES;
        await this.sendSealed({ step: 'psi-shuffled', from: 'feature-holder', to: 'label-holder', payload: { stage: plan.stage, batch: batch++, last: total === shuffle.size, total, fingerprints } });
      }
      if (shuffle.size === 0) await this.sendSealed({ step: 'psi-shuffled', from: 'feature-holder', to: 'label-holder', payload: { stage: plan.stage, batch, last: true, total: 0, fingerprints: new Uint8Array(0) } });
    }

    // Step 4: stream b·H(y), at most `window` batches unacknowledged.
    const window = this.newWindow();
    let lastBatch = -1;
    const stream = async (): Promise<void> => {
      let batch = 0;
      let total = 0;
      for (;;) {
        refill();
        const head = ahead.shift();
        if (head === undefined) break;
        const elements = own.admit(head.rows, await head.blinded);
        if (elements.length === 0) continue;
        await window.acquire();
        total += elements.length / ELEMENT_BYTES;
        await this.sendSealed({ step: 'psi-peer-blinded', from: 'feature-holder', to: 'label-holder', payload: { stage: plan.stage, batch: batch++, last: false, total, elements } });
        this.progress(plan, 'own', head.walked, ids.rows);
      }
      this.progress(plan, 'own', ids.rows, ids.rows);
      await window.acquire();
      lastBatch = batch;
      await this.sendSealed({ step: 'psi-peer-blinded', from: 'feature-holder', to: 'label-holder', payload: { stage: plan.stage, batch, last: true, total, elements: new Uint8Array(0) } });
    };
    const acks = async (): Promise<void> => {
      for (let batch = 0; ; batch++) {
        const m = await this.next('psi-peer-ack');
        this.expectBatch(m, plan.stage, batch);
        window.release();
        if (batch === lastBatch) return;
      }
    };
    await Promise.all([this.guard(stream()), this.guard(acks())]);
    this.windows.delete(window);

    // Step 5: what the label holder tells.
    const result = await this.next('psi-stage-result');
    if (result.payload.stage !== plan.stage) throw new ValidationError(this.peer, `psi-stage-result: stage ${result.payload.stage}, expected ${plan.stage}`);
    const { count, positions } = result.payload;
    if (params.reveal === 'both' ? count !== positions.length : positions.length !== 0) {
      throw new ValidationError(this.peer, `psi-stage-result: ${positions.length} positions with count ${String(count)} under reveal ${params.reveal}`);
    }
    if ((params.reveal === 'label-holder') !== (count === undefined)) throw new ValidationError(this.peer, `psi-stage-result: count ${count === undefined ? 'missing' : 'sent'} under reveal ${params.reveal}`);
    const seen = new Uint8Array(own.size);
    const rows = Uint32Array.from(positions, (p) => {
      const row = own.row(p, this.peer);
      if (seen[p] !== 0) throw new ValidationError(this.peer, `psi-stage-result: position ${p} listed twice`);
      seen[p] = 1;
      return row;
    });
    return {
      rows,
      summary: { column: params.columns[plan.column]?.name ?? '', ownItems: own.size, ownDuplicates: own.duplicates, peerItems: labelItems, matched: count },
    };
  }
}
