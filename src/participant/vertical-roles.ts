/**
 * A platform's part in deployed vertical jobs, as a mod in front of its other handlers (like
 * `secure-roles.ts`): it opens the job with its own data (label holder when its schema has the
 * label column, feature holder otherwise), runs PSI with each peer, takes part in the alignment
 * step, feeds the coordinator's `vertical.*` deliveries to its role object, and answers the
 * coordinator's `vertical.pull` long polls with its outgoing messages, since participants only
 * answer requests. The control envelopes are declared in `coordinator/vertical-wire.ts`.
 */
import { ConfigError, EduFedError, ValidationError } from '../core/errors.js';
import { open, seal } from '../crypto/aead.js';
import { agreeKey, generateX25519, type X25519KeyPair } from '../crypto/key-agreement.js';
import { stratifiedSplit } from '../data/split.js';
import type { Schema } from '../data/schema.js';
import type { RawTable } from '../data/table.js';
import { decodeVerticalMessage, encodeVerticalMessage } from '../federation/vertical/codec.js';
import { FeatureHolder } from '../federation/vertical/feature-holder.js';
import { LabelHolder } from '../federation/vertical/label-holder.js';
import {
  decodePsiEnvelope,
  encodePsiEnvelope,
  FeatureHolderPsi,
  idSourceFromRawTable,
  inlineCompute,
  isPsiKind,
  LabelHolderPsi,
  PSI_SUITES,
  resolvePsiParams,
  type PsiRelayed,
} from '../federation/vertical/psi/index.js';
import type { EnvelopeBody, RequestHandler } from '../transport/channel.js';
import {
  alignContext,
  bytesOf,
  bytesTensor,
  controlBody,
  headerOf,
  intField,
  rowsTensor,
  VERTICAL_KINDS,
} from '../coordinator/vertical-wire.js';
import { KIND_PREFIX } from '../federation/vertical/codec.js';

/** How long a `vertical.pull` waits before answering `vertical.idle` (the coordinator asks again). */
const PULL_IDLE_MS = 15_000;
const KEY_BYTES = 32;

/** A FIFO of outgoing envelope bodies with one waiting reader at a time. */
class OutgoingQueue {
  private readonly items: EnvelopeBody[] = [];
  private readonly readers: ((b: EnvelopeBody | undefined) => void)[] = [];

  push(body: EnvelopeBody): void {
    const r = this.readers.shift();
    if (r !== undefined) r(body);
    else this.items.push(body);
  }

  /** The next body, or undefined after `ms` or when `signal` aborts. */
  next(signal: AbortSignal, ms: number): Promise<EnvelopeBody | undefined> {
    const head = this.items.shift();
    if (head !== undefined) return Promise.resolve(head);
    return new Promise((resolve) => {
      const done = (b: EnvelopeBody | undefined): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const i = this.readers.indexOf(done);
        if (i >= 0) this.readers.splice(i, 1);
        resolve(b);
      };
      const onAbort = (): void => done(undefined);
      const timer = setTimeout(() => done(undefined), ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.readers.push(done);
    });
  }
}

interface JobState {
  readonly jobId: string;
  readonly role: 'label-holder' | 'feature-holder';
  readonly party: LabelHolder | FeatureHolder;
  readonly outgoing: OutgoingQueue;
  readonly labelHolder: string;
  /** PSI sessions by peer id (the label holder has one per feature holder). */
  readonly sessions: Map<string, LabelHolderPsi | FeatureHolderPsi>;
  /** This platform's rows of each intersection, in the canonical PSI order, by peer. */
  readonly psiRows: Map<string, Uint32Array>;
  /** Feature holder: the key the label holder seals the alignment to. */
  alignKey: X25519KeyPair | undefined;
}

/** What the roles report about each job (for the platform's ledger). */
export type VerticalJobRecorder = (jobId: string, header: unknown, decision: { readonly accepted: boolean; readonly reason?: string }) => void;

/** The vertical roles of one platform. */
export class VerticalRoles {
  private readonly jobs = new Map<string, JobState>();

  /**
   * @param id this platform's participant id.
   * @param raw its table, typed by `schema` (the label holder's schema has a label column).
   */
  constructor(
    private readonly id: string,
    private readonly raw: RawTable,
    private readonly schema: Schema,
    private readonly recordJob: VerticalJobRecorder = () => undefined,
  ) {}

  /** The mod: `vertical.*` and `psi.*` requests are answered here, everything else goes to `next`. */
  mod(next: RequestHandler): RequestHandler {
    return async (e, ctx) => {
      if (e.kind === VERTICAL_KINDS.open) return this.open(e.jobId, e);
      if (isPsiKind(e.kind)) return this.deliverPsi(e.jobId, e);
      if (!e.kind.startsWith(KIND_PREFIX)) return next(e, ctx);
      const job = this.job(e.jobId);
      switch (e.kind) {
        case VERTICAL_KINDS.pull: {
          const body = await job.outgoing.next(ctx.signal, PULL_IDLE_MS);
          return body ?? controlBody(VERTICAL_KINDS.idle, e.jobId, {});
        }
        case VERTICAL_KINDS.psi:
          return this.runPsi(job, e);
        case VERTICAL_KINDS.align:
          return this.align(job, e);
        case VERTICAL_KINDS.deliver:
          return this.deliverAlignment(job, e);
        default:
          job.party.receive(decodeVerticalMessage(e));
          return controlBody(VERTICAL_KINDS.ack, e.jobId, {});
      }
    };
  }

  private job(jobId: string): JobState {
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new EduFedError('PROTOCOL', `platform ${this.id}: no vertical job "${jobId}" is open`);
    return job;
  }

  private async open(jobId: string, e: Parameters<RequestHandler>[0]): Promise<EnvelopeBody> {
    const h = headerOf(e);
    try {
      if (this.jobs.has(jobId)) throw new ConfigError('jobId', `vertical job "${jobId}" is already open at ${this.id}`);
      const idColumn = typeof h['idColumn'] === 'string' ? h['idColumn'] : '';
      const labelHolder = typeof h['labelHolder'] === 'string' ? h['labelHolder'] : '';
      const featureHolders = Array.isArray(h['featureHolders']) ? h['featureHolders'].filter((x): x is string => typeof x === 'string') : [];
      const psi = typeof h['psi'] === 'object' && h['psi'] !== null ? Object.fromEntries(Object.entries(h['psi'])) : {};
      const hasLabel = this.schema.columns.some((c) => c.type === 'label');
      const role = hasLabel ? 'label-holder' : 'feature-holder';
      if ((labelHolder === this.id) !== hasLabel) {
        throw new ConfigError('labelHolder', `the job names "${labelHolder}" as label holder, but ${this.id}'s schema ${hasLabel ? 'has' : 'has no'} label column`);
      }
      const suite = PSI_SUITES.find((s) => s === psi['suite']);
      if (suite === undefined || psi['reveal'] !== 'both' || typeof psi['salt'] !== 'string') throw new ValidationError(e.sender, `${e.kind}.psi: expected suite, reveal "both" and a salt`);
      const params = resolvePsiParams({ suite, reveal: 'both', columns: [idColumn], salt: Buffer.from(psi['salt'], 'hex') });
      const outgoing = new OutgoingQueue();
      const send = (m: Parameters<LabelHolder['receive']>[0]): void => outgoing.push(encodeVerticalMessage(m));
      const party = hasLabel ? new LabelHolder(this.id, this.raw, this.schema, idColumn, send) : new FeatureHolder(this.id, this.raw, this.schema, idColumn, send);
      const ids = idSourceFromRawTable(this.raw, [idColumn]);
      const compute = await inlineCompute(suite);
      const peers = hasLabel ? featureHolders : [labelHolder];
      const sessions = new Map<string, LabelHolderPsi | FeatureHolderPsi>();
      for (const peer of peers) {
        const pair = { jobId, labelHolderId: labelHolder, featureHolderId: hasLabel ? peer : this.id };
        const psiSend = (msg: PsiRelayed): void => {
          const body = encodePsiEnvelope(jobId, msg);
          outgoing.push({ ...body, header: { ...headerOf({ ...body, correlationId: '', sender: this.id, receiver: '' }), peer } });
        };
        const options = { pair, params, ids, compute, send: psiSend };
        sessions.set(peer, hasLabel ? new LabelHolderPsi(options) : new FeatureHolderPsi(options));
      }
      this.jobs.set(jobId, { jobId, role, party, outgoing, labelHolder, sessions, psiRows: new Map(), alignKey: undefined });
      this.recordJob(jobId, { ...h, role }, { accepted: true });
      return controlBody(VERTICAL_KINDS.opened, jobId, { role });
    } catch (err) {
      this.recordJob(jobId, h, { accepted: false, reason: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }

  private deliverPsi(jobId: string, e: Parameters<RequestHandler>[0]): EnvelopeBody {
    const job = this.job(jobId);
    const peer = headerOf(e)['peer'];
    const session = typeof peer === 'string' ? job.sessions.get(peer) : undefined;
    if (session === undefined) throw new ValidationError(e.sender, `${e.kind}: no PSI with peer ${JSON.stringify(peer)} in job "${jobId}"`);
    session.deliver(decodePsiEnvelope(e));
    return controlBody(VERTICAL_KINDS.ack, jobId, {});
  }

  private async runPsi(job: JobState, e: Parameters<RequestHandler>[0]): Promise<EnvelopeBody> {
    const peer = headerOf(e)['peer'];
    const session = typeof peer === 'string' ? job.sessions.get(peer) : undefined;
    if (typeof peer !== 'string' || session === undefined) throw new ValidationError(e.sender, `${e.kind}: no PSI with peer ${JSON.stringify(peer)}`);
    const result = await session.run();
    if (result.rows === undefined) throw new EduFedError('PROTOCOL', `PSI with ${peer} revealed no rows to ${this.id}`);
    job.psiRows.set(peer, result.rows);
    if (job.role === 'label-holder') return controlBody(VERTICAL_KINDS.psiDone, job.jobId, { size: result.rows.length });
    job.alignKey = generateX25519();
    return controlBody(VERTICAL_KINDS.psiDone, job.jobId, { size: result.rows.length }, [bytesTensor('alignKey', job.alignKey.publicKey)]);
  }

  /** Label holder: the canonical positions (training first), and each feature holder's sealed map from PSI order to position. */
  private align(job: JobState, e: Parameters<RequestHandler>[0]): EnvelopeBody {
    if (!(job.party instanceof LabelHolder)) throw new ValidationError(e.sender, `${e.kind}: ${this.id} is not the label holder`);
    const h = headerOf(e);
    const testFraction = h['testFraction'];
    const seed = h['seed'];
    if (typeof testFraction !== 'number' || !(testFraction >= 0 && testFraction < 1)) throw new ValidationError(e.sender, `${e.kind}.testFraction: expected a number in [0, 1)`);
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw new ValidationError(e.sender, `${e.kind}.seed: expected an integer`);
    const labels = job.party.features.labels;
    const split = stratifiedSplit(labels, testFraction, seed);
    const order = Int32Array.from([...split.train, ...split.test]);
    const positionOf = new Int32Array(labels.length).fill(-1);
    order.forEach((row, p) => (positionOf[row] = p));
    const key = generateX25519();
    const tensors = [rowsTensor('rows', order), bytesTensor('key', key.publicKey)];
    const peers: string[] = [];
    for (const [peer, lhRows] of job.psiRows) {
      const positions = Uint32Array.from(lhRows, (r) => positionOf[r] ?? -1);
      const aead = agreeKey(key.privateKey, bytesOf(e, `alignKey.${peer}`, KEY_BYTES), alignContext(job.jobId, this.id, peer));
      tensors.push(bytesTensor(`sealed.${peer}`, seal(aead, new Uint8Array(positions.buffer), alignContext(job.jobId, this.id, peer))));
      aead.fill(0);
      peers.push(peer);
    }
    return controlBody(VERTICAL_KINDS.aligned, job.jobId, { n: order.length, nTrain: split.train.length, peers }, tensors);
  }

  /** Feature holder: opens the label holder's map and returns its row at every position (−1 where it lacks the learner). */
  private deliverAlignment(job: JobState, e: Parameters<RequestHandler>[0]): EnvelopeBody {
    const h = headerOf(e);
    const n = intField(e, h, 'n');
    const nTrain = intField(e, h, 'nTrain');
    const own = job.psiRows.get(job.labelHolder);
    if (job.alignKey === undefined || own === undefined) throw new EduFedError('PROTOCOL', `${this.id}: alignment before PSI`);
    const context = alignContext(job.jobId, job.labelHolder, this.id);
    const aead = agreeKey(job.alignKey.privateKey, bytesOf(e, 'key', KEY_BYTES), context);
    const plain = open(aead, bytesOf(e, 'sealed'), context);
    aead.fill(0);
    job.alignKey = undefined;
    if (plain.length !== 4 * own.length) throw new ValidationError(job.labelHolder, `alignment: ${plain.length / 4} positions for ${own.length} intersecting rows`);
    const positions = new Uint32Array(plain.buffer.slice(plain.byteOffset, plain.byteOffset + plain.length));
    const rows = new Int32Array(n).fill(-1);
    positions.forEach((p, k) => {
      if (p >= n || rows[p] !== -1) throw new ValidationError(job.labelHolder, `alignment: position ${p} out of range or repeated`);
      rows[p] = own[k] ?? -1;
    });
    return controlBody(VERTICAL_KINDS.aligned, job.jobId, { n, nTrain }, [rowsTensor('rows', rows)]);
  }
}
