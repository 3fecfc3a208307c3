/**
 * The participant side of CKKS secure aggregation, as a "mod" around the participant's horizontal
 * training: it answers the protocol's requests (see `protocol.ts`), runs training through the
 * function it is given, and sends back only ciphertexts and the plain metadata every mode reveals.
 */
import { createHash } from 'node:crypto';
import { EduFedError, toErrorInfo } from '../../core/errors.js';
import { open, seal } from '../../crypto/aead.js';
import { createCkks, loadSeal, type Ckks, type CkksParams } from '../../crypto/ckks.js';
import { agreeKey, generateX25519, type X25519KeyPair } from '../../crypto/key-agreement.js';
import type { HorizontalReply, TrainRequest } from '../horizontal/protocol.js';
import {
  SLOT_COUNT,
  SLOT_DELTA,
  SLOT_WEIGHT,
  type AgreementKey,
  type CkksCollectRequest,
  type CkksDecryptRequest,
  type CkksInstallRequest,
  type CkksKeygenRequest,
  type CkksReply,
  type CkksRequest,
  type SealedSecretKey,
} from './protocol.js';

/** The id of a CKKS key: SHA-256 (hex) of its serialised public key, as the leader sent it. */
export function ckksKeyId(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex');
}

/** HKDF context of the key that seals a job's CKKS secret key from `sealer` to `recipient`. */
function sealingContext(jobId: string, sealer: string, recipient: string): string {
  return `edufed/ckks-secret-key ${JSON.stringify([jobId, sealer, recipient])}`;
}

/**
 * Seals a CKKS secret key for one recipient: AES-256-GCM under agreeKey(sealer, recipient, job
 * context), with the job, both ends and the key id bound as associated data, so the ciphertext is
 * useless to the coordinator that relays it and cannot be replayed for another job, peer or key.
 * @throws EduFedError (PROTOCOL) when the recipient's agreement key is malformed or of low order.
 */
export function sealSecretKey(
  jobId: string,
  sealer: { readonly id: string; readonly keys: X25519KeyPair },
  recipient: AgreementKey,
  secretKey: Uint8Array,
  keyId: string,
): Uint8Array {
  const context = sealingContext(jobId, sealer.id, recipient.participantId);
  const key = agreeKey(sealer.keys.privateKey, recipient.publicKey, context);
  try {
    return seal(key, secretKey, `${context} ${keyId}`);
  } finally {
    key.fill(0);
  }
}

/**
 * Opens a secret key sealed by {@link sealSecretKey}; wipe the result after use.
 * @throws EduFedError (PROTOCOL) when it was sealed for someone else, by someone else, for another
 *   job or key id, or was altered.
 */
export function openSecretKey(
  jobId: string,
  recipient: { readonly id: string; readonly keys: X25519KeyPair },
  sealer: AgreementKey,
  sealed: Uint8Array,
  keyId: string,
): Uint8Array {
  const context = sealingContext(jobId, sealer.participantId, recipient.id);
  const key = agreeKey(recipient.keys.privateKey, sealer.publicKey, context);
  try {
    return open(key, sealed, `${context} ${keyId}`);
  } finally {
    key.fill(0);
  }
}

/** Options of a {@link CkksClient}: this participant's own policy, whatever the coordinator asks. */
export interface CkksClientOptions {
  /** Fewest contributors a sum must have before this participant decrypts it; default 2. */
  readonly minInputs?: number;
}

/** One job's CKKS state on a participant. */
interface JobKeys {
  agreement?: X25519KeyPair;
  ckks?: Ckks;
  keyId?: string;
  /** Contributor list of each round this participant decrypted. */
  readonly decrypted: Map<number, string>;
}

/** Rounds whose decryption is remembered per job (to refuse a second, different subset). */
const DECRYPTED_MEMORY = 1024;

/** The participant's CKKS role: one instance per participant process, any number of jobs. */
export class CkksClient {
  readonly participantId: string;
  private readonly minInputs: number;
  private readonly jobs = new Map<string, JobKeys>();

  /** @throws EduFedError (CONFIG) when `minInputs` is not a positive integer. */
  constructor(participantId: string, options: CkksClientOptions = {}) {
    const minInputs = options.minInputs ?? 2;
    if (!Number.isInteger(minInputs) || minInputs < 1) throw new EduFedError('CONFIG', `CkksClient minInputs: expected a positive integer, got ${minInputs}`);
    this.participantId = participantId;
    this.minInputs = minInputs;
  }

  /**
   * Answers one request of job `jobId`; `train` runs the horizontal training of a collect request.
   * Never throws: every failure comes back as a `ckks-error` reply.
   */
  async handle(jobId: string, req: CkksRequest, train: (req: TrainRequest) => Promise<HorizontalReply>): Promise<CkksReply> {
    try {
      return await this.dispatch(jobId, req, train);
    } catch (err) {
      return { step: 'ckks-error', from: 'participant', to: 'coordinator', payload: { ...toErrorInfo(err), needsKey: err instanceof MissingKey } };
    }
  }

  /** Forgets a job: its keys are freed and its agreement key dropped. */
  forget(jobId: string): void {
    this.jobs.get(jobId)?.ckks?.dispose();
    this.jobs.delete(jobId);
  }

  private job(jobId: string): JobKeys {
    let job = this.jobs.get(jobId);
    if (job === undefined) {
      job = { decrypted: new Map() };
      this.jobs.set(jobId, job);
    }
    return job;
  }

  private async dispatch(jobId: string, req: CkksRequest, train: (req: TrainRequest) => Promise<HorizontalReply>): Promise<CkksReply> {
    const from = 'participant' as const;
    const to = 'coordinator' as const;
    switch (req.step) {
      case 'ckks-hello': {
        // Load SEAL now, so the key setup that follows is not slowed by it.
        await loadSeal();
        const agreement = generateX25519();
        this.job(jobId).agreement = agreement;
        return { step: 'ckks-hello-result', from, to, payload: { agreementKey: agreement.publicKey } };
      }
      case 'ckks-keygen':
        return { step: 'ckks-keygen-result', from, to, payload: await this.keygen(jobId, req) };
      case 'ckks-share': {
        const job = this.job(jobId);
        const ckks = this.keyed(jobId, job);
        return { step: 'ckks-share-result', from, to, payload: { sealed: this.sealFor(jobId, job, ckks, req.payload.peers) } };
      }
      case 'ckks-install':
        return { step: 'ckks-install-result', from, to, payload: { keyId: await this.install(jobId, req) } };
      case 'ckks-collect':
        return this.collect(jobId, req, train);
      case 'ckks-decrypt':
        return { step: 'ckks-decrypt-result', from, to, payload: { round: req.payload.round, values: this.decrypt(jobId, req) } };
    }
  }

  private agreement(jobId: string, job: JobKeys, step: string): X25519KeyPair {
    if (job.agreement === undefined) throw new EduFedError('PROTOCOL', `job "${jobId}": ${step} before ckks-hello`);
    return job.agreement;
  }

  private keyed(jobId: string, job: JobKeys, keyId?: string): Ckks {
    if (job.ckks === undefined || job.keyId === undefined) throw new MissingKey(`job "${jobId}": this participant holds no CKKS key`);
    if (keyId !== undefined && keyId !== job.keyId) throw new MissingKey(`job "${jobId}": this participant holds CKKS key ${job.keyId.slice(0, 12)}…, not ${keyId.slice(0, 12)}…`);
    return job.ckks;
  }

  private replaceKey(job: JobKeys, ckks: Ckks, keyId: string): void {
    if (job.ckks !== ckks) job.ckks?.dispose();
    job.ckks = ckks;
    job.keyId = keyId;
    job.decrypted.clear();
  }

  /** Seals the secret key to each peer; a peer whose agreement key is unusable is left out (the coordinator notices). */
  private sealFor(jobId: string, job: JobKeys, ckks: Ckks, peers: readonly AgreementKey[]): SealedSecretKey[] {
    const keys = this.agreement(jobId, job, 'sealing the secret key');
    const keyId = job.keyId ?? '';
    const secretKey = ckks.saveSecretKey();
    try {
      const out: SealedSecretKey[] = [];
      for (const peer of peers) {
        if (peer.participantId === this.participantId) continue;
        try {
          out.push({ participantId: peer.participantId, sealed: sealSecretKey(jobId, { id: this.participantId, keys }, peer, secretKey, keyId) });
        } catch {
          // A malformed or low-order agreement key: that peer gets nothing.
        }
      }
      return out;
    } finally {
      secretKey.fill(0);
    }
  }

  private async keygen(jobId: string, req: CkksKeygenRequest): Promise<{ publicKey: Uint8Array; sealed: SealedSecretKey[] }> {
    const job = this.job(jobId);
    this.agreement(jobId, job, 'ckks-keygen');
    const ckks = await createCkks(req.payload.params);
    try {
      ckks.generateKeys();
      const publicKey = ckks.savePublicKey();
      this.replaceKey(job, ckks, ckksKeyId(publicKey));
      return { publicKey, sealed: this.sealFor(jobId, job, ckks, req.payload.peers) };
    } catch (err) {
      if (job.ckks !== ckks) ckks.dispose();
      throw err;
    }
  }

  private async install(jobId: string, req: CkksInstallRequest): Promise<string> {
    const job = this.job(jobId);
    const keys = this.agreement(jobId, job, 'ckks-install');
    const { params, sealer, sealerKey, publicKey, sealedSecretKey } = req.payload;
    const keyId = ckksKeyId(publicKey);
    const secretKey = openSecretKey(jobId, { id: this.participantId, keys }, { participantId: sealer, publicKey: sealerKey }, sealedSecretKey, keyId);
    const ckks = await createCkks(params);
    try {
      ckks.loadPublicKey(publicKey);
      ckks.loadSecretKey(secretKey);
      if (!ckks.checkKeyPair()) throw new EduFedError('PROTOCOL', `job "${jobId}": the secret key from "${sealer}" does not match the public key`);
    } catch (err) {
      ckks.dispose();
      throw err;
    } finally {
      secretKey.fill(0);
    }
    this.replaceKey(job, ckks, keyId);
    return keyId;
  }

  private async collect(jobId: string, req: CkksCollectRequest, train: (req: TrainRequest) => Promise<HorizontalReply>): Promise<CkksReply> {
    const { weighting, maxInputs, keyId } = req.payload;
    const ckks = this.keyed(jobId, this.job(jobId), keyId);
    const global = req.payload.train.params;
    const reply = await train({ step: 'train', from: 'coordinator', to: 'participant', payload: req.payload.train });
    if (reply.step === 'error') return { step: 'ckks-error', from: 'participant', to: 'coordinator', payload: { ...reply.payload, needsKey: false } };
    if (reply.step !== 'train-result') throw new EduFedError('INTERNAL', `training answered with "${reply.step}"`);
    const { params, numExamples, loss, trainMs, summary } = reply.payload;
    if (params.length !== global.length) {
      throw new EduFedError('PROTOCOL', `trained model has ${params.length} parameters, the global model ${global.length}`);
    }
    const w = weighting === 'examples' ? numExamples : 1;
    const vector = new Float64Array(SLOT_DELTA + global.length);
    vector[SLOT_COUNT] = 1;
    vector[SLOT_WEIGHT] = w;
    for (let i = 0; i < global.length; i++) vector[SLOT_DELTA + i] = w * ((params[i] as number) - (global[i] as number));
    let ciphertexts: Uint8Array[];
    try {
      // Each input may use 1/maxInputs of the headroom, so no sum of up to maxInputs inputs overflows.
      ciphertexts = ckks.encrypt(vector, { maxAbs: ckks.capacity / maxInputs });
    } finally {
      vector.fill(0);
    }
    return {
      step: 'ckks-collect-result',
      from: 'participant',
      to: 'coordinator',
      payload: { round: req.payload.train.round, ciphertexts, meta: { loss, trainMs, ...(summary !== undefined ? { summary } : {}) } },
    };
  }

  private decrypt(jobId: string, req: CkksDecryptRequest): Float64Array {
    const { round, keyId, contributors, length, ciphertexts } = req.payload;
    const job = this.job(jobId);
    const ckks = this.keyed(jobId, job, keyId);
    const refuse = (why: string): never => {
      throw new EduFedError('PROTOCOL', `job "${jobId}" round ${round}: refusing to decrypt: ${why}`);
    };
    if (contributors.length < this.minInputs) refuse(`the sum claims ${contributors.length} contributors, this participant requires at least ${this.minInputs}`);
    if (length <= SLOT_DELTA) refuse(`length ${length} leaves no model slots`);
    const set = JSON.stringify([...contributors].sort());
    const earlier = job.decrypted.get(round);
    if (earlier !== undefined && earlier !== set) refuse('this round was already decrypted for another set of contributors');
    const values = ckks.decrypt(ciphertexts, length, 'ckks-decrypt.ciphertexts');
    const count = values[SLOT_COUNT] as number;
    if (!(Math.abs(count - contributors.length) < 0.5)) {
      values.fill(0);
      refuse(`the sum's count slot does not match its ${contributors.length} contributors`);
    }
    job.decrypted.set(round, set);
    if (job.decrypted.size > DECRYPTED_MEMORY) {
      const oldest = job.decrypted.keys().next();
      if (oldest.done !== true) job.decrypted.delete(oldest.value);
    }
    return values;
  }
}

/** The participant holds no key (or another key) for the job: reported with `needsKey`, so the coordinator reinstalls it. */
class MissingKey extends EduFedError {
  constructor(message: string) {
    super('PROTOCOL', message);
    this.name = 'MissingKey';
  }
}
