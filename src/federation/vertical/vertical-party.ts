/**
 * What the label holder and the feature holders share: receiving messages, serialising their
 * control steps (one at a time, in arrival order), keeping party-to-party data in a mailbox until
 * the protocol loop asks for it, the job's keys, and turning any failure into an `error` value
 * for the arbiter rather than an exception.
 */
import { EduFedError, ValidationError, toErrorInfo } from '../../core/errors.js';
import { BatchSchedule } from './batch-schedule.js';
import { Mailbox } from './mailbox.js';
import { freshAgreementKey, PeerChannel, type AgreementKeyPair } from './peer-channel.js';
import { phaseLabel, STEP_ROLES } from './protocol.js';
import type { Endpoint, EpochStart, PartyRole, Phase, Score, Send, Setup, VerticalMessage, VerticalStep, VerticalTrainConfig } from './protocol.js';
import { checkTrainConfig } from './train-config.js';

/** The arbiter's address (every party talks only to it). */
export const ARBITER: Endpoint<'arbiter'> = { role: 'arbiter', id: 'arbiter' };

/** Mailbox key of a party-to-party data message. */
export function dataKey(step: VerticalStep, from: string, phase: Phase | string, batch: number): string {
  return `${step}|${from}|${typeof phase === 'string' ? phase : phaseLabel(phase)}|${batch}`;
}

/** Where a sealed payload sits in the job: its phase and batch. */
export function place(phase: Phase | string, batch: number): string {
  return `${typeof phase === 'string' ? phase : phaseLabel(phase)}/${batch}`;
}

/** The job state every party builds at setup. */
export interface PartyJob {
  readonly config: VerticalTrainConfig;
  readonly channel: PeerChannel;
  readonly rows: Int32Array;
  readonly nTrain: number;
  readonly schedule: BatchSchedule;
  readonly labelHolder: string;
  /** Feature holders in directory order. */
  readonly featureHolders: readonly string[];
}

/** A data-holding party of a vertical job. */
export abstract class VerticalParty<R extends PartyRole> {
  /** This party's role and id. */
  readonly endpoint: Endpoint<R>;
  protected readonly send: Send;
  protected readonly mailbox = new Mailbox<VerticalMessage>();
  private keys: AgreementKeyPair | undefined;
  private jobState: PartyJob | undefined;
  private queue: Promise<void> = Promise.resolve();
  private finished = false;
  /** The error that stopped this party's loops (reported once). */
  private failure: EduFedError | undefined;

  constructor(endpoint: Endpoint<R>, send: Send) {
    this.endpoint = endpoint;
    this.send = send;
  }

  /** This party's id. */
  get id(): string {
    return this.endpoint.id;
  }

  /** The job set up by the last `setup`. @throws {EduFedError} code PROTOCOL before setup. */
  protected get job(): PartyJob {
    if (this.jobState === undefined) throw new EduFedError('PROTOCOL', `party ${this.id}: no job set up`);
    return this.jobState;
  }

  /**
   * Takes one message from the transport. Data from other parties is kept until the protocol
   * asks for it; control steps run one after another. Never throws: failures go to the arbiter.
   */
  receive(message: VerticalMessage): void {
    try {
      this.checkAddressed(message);
    } catch (err) {
      this.report(err);
      return;
    }
    switch (message.step) {
      case 'masked-features':
        this.mailbox.put(dataKey(message.step, message.from.id, 'setup', 0), message);
        return;
      case 'partial-logits':
      case 'embeddings':
        this.mailbox.put(dataKey(message.step, message.from.id, message.payload.phase, message.payload.batch), message);
        return;
      case 'residual':
      case 'gradient-shares':
      case 'embedding-gradients':
        this.mailbox.put(dataKey(message.step, message.from.id, { kind: 'train', epoch: message.payload.epoch }, message.payload.batch), message);
        return;
      case 'finish':
        // Not queued: a loop still waiting for a party that failed would hold the queue forever.
        this.finish(message.payload.jobId);
        return;
      default:
        this.enqueue(() => this.control(message));
    }
  }

  private finish(jobId: string): void {
    this.finished = true;
    this.wipe();
    this.send({ step: 'finish-result', from: this.endpoint, to: ARBITER, payload: { jobId } });
  }

  private checkAddressed(message: VerticalMessage): void {
    if (message.to.id !== this.id || message.to.role !== this.endpoint.role) {
      throw new ValidationError(message.from.id, `${message.step} addressed to ${message.to.role} "${message.to.id}" reached ${this.endpoint.role} "${this.id}"`);
    }
    const roles = STEP_ROLES[message.step];
    if (roles === undefined || !roles.from.includes(message.from.role) || !roles.to.includes(this.endpoint.role)) {
      throw new ValidationError(message.from.id, `a ${message.from.role} may not send ${String(message.step)} to a ${this.endpoint.role}`);
    }
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: unknown) => this.report(err));
  }

  private async control(message: VerticalMessage): Promise<void> {
    if (this.finished) throw new EduFedError('PROTOCOL', `party ${this.id}: ${message.step} after finish`);
    switch (message.step) {
      case 'hello': {
        this.keys = freshAgreementKey();
        this.send({ step: 'hello-result', from: this.endpoint, to: ARBITER, payload: { jobId: message.payload.jobId, agreementKey: this.keys.publicKey } });
        return;
      }
      case 'setup': {
        this.jobState = this.createJob(message);
        const dim = await this.setup(message);
        this.send({ step: 'setup-result', from: this.endpoint, to: ARBITER, payload: { jobId: this.job.config.jobId, dim } });
        return;
      }
      case 'epoch-start': {
        this.checkJob(message.payload.jobId);
        const loss = await this.epoch(message.payload.epoch, message.payload.material);
        this.send({
          step: 'epoch-end',
          from: this.endpoint,
          to: ARBITER,
          payload: { jobId: this.job.config.jobId, epoch: message.payload.epoch, ...(loss !== undefined ? { loss } : {}) },
        });
        return;
      }
      case 'evaluate':
        this.checkJob(message.payload.jobId);
        await this.evaluate();
        return;
      case 'score':
        this.checkJob(message.payload.jobId);
        await this.score(message.payload.queryId, message.payload.rows, message.payload.presence);
        return;
      default:
        throw new ValidationError(message.from.id, `party ${this.id} does not handle ${message.step}`);
    }
  }

  private createJob(message: Setup): PartyJob {
    if (this.keys === undefined) throw new EduFedError('PROTOCOL', `party ${this.id}: setup before hello`);
    const { config, directory, rows, nTrain } = message.payload;
    checkTrainConfig(config);
    if (!(rows instanceof Int32Array)) throw new ValidationError('arbiter', `setup for ${this.id}: rows must be an Int32Array`);
    if (!Number.isSafeInteger(nTrain) || nTrain < 1 || nTrain > rows.length) {
      throw new ValidationError('arbiter', `setup for ${this.id}: nTrain ${String(nTrain)} is not in [1, ${rows.length}]`);
    }
    const me = directory.find((e) => e.id === this.id);
    if (me === undefined || me.role !== this.endpoint.role) {
      throw new ValidationError('arbiter', `setup for ${this.id}: the directory does not list this party as a ${this.endpoint.role}`);
    }
    const holders = directory.filter((e) => e.role === 'label-holder');
    const labelHolder = holders[0];
    if (labelHolder === undefined || holders.length !== 1) {
      throw new ValidationError('arbiter', `setup for ${this.id}: the directory lists ${holders.length} label holders, expected 1`);
    }
    return {
      config,
      channel: new PeerChannel(config.jobId, this.id, this.keys, directory),
      rows,
      nTrain,
      schedule: new BatchSchedule(nTrain, config.batchSize, config.seed),
      labelHolder: labelHolder.id,
      featureHolders: directory.filter((e) => e.role === 'feature-holder').map((e) => e.id),
    };
  }

  private checkJob(jobId: string): void {
    if (this.job.config.jobId !== jobId) throw new ValidationError('arbiter', `party ${this.id} is in job "${this.job.config.jobId}", not "${jobId}"`);
  }

  /** Reports a failure to the arbiter as a value, and stops this party's protocol loops. */
  protected report(err: unknown): void {
    // A loop woken by an earlier failure, or by the end of the job, has nothing new to say.
    if (this.finished || (err !== undefined && err === this.failure)) return;
    const error = toErrorInfo(err);
    this.failure = err instanceof EduFedError ? err : new EduFedError('INTERNAL', error.message, { cause: err });
    this.mailbox.fail(this.failure);
    this.send({ step: 'error', from: this.endpoint, to: ARBITER, payload: { jobId: this.jobState?.config.jobId ?? '', error } });
  }

  /** Waits for the data message under `key`. */
  protected take(key: string): Promise<VerticalMessage> {
    return this.mailbox.take(key);
  }

  private wipe(): void {
    this.jobState?.channel.wipe();
    this.keys = undefined;
    this.wipeState();
    this.mailbox.fail(new EduFedError('PROTOCOL', `party ${this.id}: the job has finished`));
  }

  /** Prepares the party's data and model for the job; returns its feature count. */
  protected abstract setup(message: Setup): Promise<number>;
  /** Runs one epoch; the label holder returns its mean training loss. */
  protected abstract epoch(epoch: number, material: EpochStart['payload']['material']): Promise<number | undefined>;
  /** Contributes to (or computes) the evaluation on the test positions. */
  protected abstract evaluate(): Promise<void>;
  /** Contributes to (or computes) the scores of a query. */
  protected abstract score(queryId: string, rows: Int32Array, presence: Score['payload']['presence']): Promise<void>;
  /** Erases masks, shares and model state at the end of the job. */
  protected abstract wipeState(): void;
}
