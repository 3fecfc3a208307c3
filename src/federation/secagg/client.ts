/**
 * The participant side of SecAgg+ (Bell et al. CCS 2020; Bonawitz et al. CCS 2017): a "mod" in
 * front of the participant's horizontal training. It answers the four steps of `protocol.ts`,
 * keeps one state per (job, round), runs local training through the given `train` function in the
 * collect step, and sends only the masked, quantised, weighted update.
 *
 * Its safety checks are the ones that protect this participant's input against a coordinator that
 * lies: a threshold that is a strict majority of the neighbourhood, every step once and in order,
 * one unmask per round, never both shares (self-mask seed and mask key) of the same participant, and
 * no unmasking when fewer than t of its neighbourhood survived. Secrets are wiped (`fill(0)`) as soon
 * as they are no longer needed; X25519 private keys live in `KeyObject`s, which cannot be wiped, so
 * they are only dropped.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, EduFedError, toErrorInfo } from '../../core/errors.js';
import { cryptoRng, type Rng } from '../../core/rng.js';
import { open, seal } from '../../crypto/aead.js';
import { agreeKey, generateX25519, rawPrivateKey, type X25519KeyPair } from '../../crypto/key-agreement.js';
import { addMask } from '../../crypto/prg.js';
import { shamir521 } from '../../crypto/shamir.js';
import type { HorizontalReply, TrainRequest } from '../horizontal/protocol.js';
import {
  KEY_BYTES,
  maskContext,
  maskSign,
  SEALED_SHARES_BYTES,
  shareAad,
  shareCoordinates,
  shareKeyContext,
  SHARE_BYTES,
  type OwnedShare,
  type PublicKeys,
  type SecAggCollectRequest,
  type SecAggReply,
  type SecAggRequest,
  type SecAggSetupConfig,
  type SecAggShareKeysRequest,
  type SecAggUnmaskRequest,
} from './protocol.js';
import { quantizeWeightedDelta, updateWeight } from './quantize.js';

/** Local training: a horizontal train request in, the participant's horizontal reply out. */
export type SecAggTrain = (req: TrainRequest) => Promise<HorizontalReply>;

/** Options of a {@link SecAggPlusClient}. */
export interface SecAggPlusClientOptions {
  /** Randomness of the stochastic rounding; default {@link cryptoRng} (tests inject a seeded one). */
  readonly rng?: Rng;
}

type Stage = 'keys-sent' | 'shares-sent' | 'training' | 'masked';

interface RoundState {
  readonly jobId: string;
  readonly round: number;
  readonly config: SecAggSetupConfig;
  readonly c: X25519KeyPair;
  s: X25519KeyPair | undefined;
  readonly sRaw: Uint8Array;
  stage: Stage;
  peers: ReadonlyMap<string, PublicKeys>;
  b: Uint8Array | undefined;
  /** Owner → this participant's share of the owner's self-mask seed / mask key (its own included). */
  readonly bShares: Map<string, Uint8Array>;
  readonly sShares: Map<string, Uint8Array>;
}

function fail(state: { jobId: string; round: number } | undefined, step: string, message: string): never {
  const where = state !== undefined ? ` (job "${state.jobId}", round ${state.round})` : '';
  throw new EduFedError('PROTOCOL', `SecAgg+ ${step}${where}: ${message}`);
}

function checkUnique(ids: readonly string[], what: string, step: string): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (typeof id !== 'string' || id === '') fail(undefined, step, `${what}: ids must be non-empty strings`);
    if (seen.has(id)) fail(undefined, step, `${what}: "${id}" appears twice`);
    seen.add(id);
  }
}

/**
 * A participant's SecAgg+ role. One instance serves every job and round of that participant.
 * Never throws out of {@link SecAggPlusClient.handle}: failures come back as `secagg-error` replies.
 */
export class SecAggPlusClient {
  readonly participantId: string;
  private readonly rng: Rng;
  private readonly rounds = new Map<string, RoundState>();

  /** @throws ConfigError for an empty participant id. */
  constructor(participantId: string, options: SecAggPlusClientOptions = {}) {
    if (participantId === '') throw new ConfigError('participantId', 'must not be empty');
    this.participantId = participantId;
    this.rng = options.rng ?? cryptoRng();
  }

  /**
   * Answers one SecAgg+ request of job `jobId`; `train` runs local training in the collect step.
   * A failed step ends this participant's part in the round and wipes its secrets.
   */
  async handle(jobId: string, req: SecAggRequest, train: SecAggTrain): Promise<SecAggReply> {
    try {
      switch (req.step) {
        case 'secagg-setup':
          return this.setup(jobId, req.payload.round, req.payload.config);
        case 'secagg-share-keys':
          return this.shareKeys(jobId, req);
        case 'secagg-collect':
          return await this.collect(jobId, req, train);
        case 'secagg-unmask':
          return this.unmask(jobId, req);
      }
    } catch (err) {
      if (req.step !== 'secagg-setup') this.discard(jobId, req.payload.round);
      return { step: 'secagg-error', from: 'participant', to: 'coordinator', payload: toErrorInfo(err) };
    }
  }

  /** Wipes and drops every round state of a job (it finished or was abandoned). */
  forget(jobId: string): void {
    for (const state of [...this.rounds.values()]) if (state.jobId === jobId) this.discard(jobId, state.round);
  }

  /** Number of rounds with live secrets (for tests and leak checks). */
  get liveRounds(): number {
    return this.rounds.size;
  }

  private key(jobId: string, round: number): string {
    return JSON.stringify([jobId, round]);
  }

  private discard(jobId: string, round: number): void {
    const k = this.key(jobId, round);
    const state = this.rounds.get(k);
    if (state === undefined) return;
    this.rounds.delete(k);
    state.sRaw.fill(0);
    state.b?.fill(0);
    state.b = undefined;
    state.s = undefined;
    for (const y of state.bShares.values()) y.fill(0);
    for (const y of state.sShares.values()) y.fill(0);
    state.bShares.clear();
    state.sShares.clear();
  }

  private state(jobId: string, round: number, step: string, expected: Stage): RoundState {
    const state = this.rounds.get(this.key(jobId, round));
    if (state === undefined) fail({ jobId, round }, step, `participant "${this.participantId}" has no state for this round (never set up, failed, or already unmasked)`);
    if (state.stage !== expected) fail(state, step, `out of order: the round is at stage "${state.stage}", this step needs "${expected}"`);
    return state;
  }

  private setup(jobId: string, round: number, config: SecAggSetupConfig): SecAggReply {
    const step = 'secagg-setup';
    const where = { jobId, round };
    if (!Number.isInteger(round) || round < 0) fail(where, step, `round ${round} is not a non-negative integer`);
    const { neighbours, threshold: t } = config;
    checkUnique(neighbours, 'neighbours', step);
    if (neighbours.includes(this.participantId)) fail(where, step, 'the neighbour list contains this participant itself');
    if (neighbours.length < 1) fail(where, step, 'no neighbours: the masked input would be protected by its self-mask alone');
    const size = neighbours.length + 1;
    if (!Number.isInteger(t) || t > size || 2 * t <= size) {
      // A minority threshold would let a coordinator that lies about who dropped collect both kinds of shares of one participant.
      fail(where, step, `threshold ${t} must be an integer strict majority of the ${size} members of the neighbourhood (${Math.floor(size / 2) + 1} … ${size})`);
    }
    if (!(Number.isFinite(config.clipRange) && config.clipRange > 0)) fail(where, step, `clipRange ${config.clipRange} must be a positive number`);
    if (!Number.isInteger(config.quantizationBits) || config.quantizationBits < 1 || config.quantizationBits > 31) {
      fail(where, step, `quantizationBits ${config.quantizationBits} must be an integer in [1, 31]`);
    }
    if (config.weighting !== 'examples' && config.weighting !== 'uniform') fail(where, step, `unknown weighting "${String(config.weighting)}"`);
    if (!(Number.isFinite(config.maxWeight) && config.maxWeight > 0)) fail(where, step, `maxWeight ${config.maxWeight} must be a positive number`);
    // Keys are fresh per round; older rounds of this job are over (aborted or finished), so their secrets go.
    this.forget(jobId);
    const c = generateX25519();
    const s = generateX25519();
    const state: RoundState = {
      jobId,
      round,
      config: { ...config, neighbours: [...neighbours].sort() },
      c,
      s,
      sRaw: rawPrivateKey(s.privateKey),
      stage: 'keys-sent',
      peers: new Map(),
      b: undefined,
      bShares: new Map(),
      sShares: new Map(),
    };
    this.rounds.set(this.key(jobId, round), state);
    return { step: 'secagg-setup-result', from: 'participant', to: 'coordinator', payload: { round, cPk: c.publicKey, sPk: s.publicKey } };
  }

  private shareKeys(jobId: string, req: SecAggShareKeysRequest): SecAggReply {
    const step = 'secagg-share-keys';
    const { round, keys } = req.payload;
    const state = this.state(jobId, round, step, 'keys-sent');
    const { threshold: t, neighbours } = state.config;
    checkUnique(
      keys.map((k) => k.participantId),
      'keys',
      step,
    );
    const seenKeys = new Set<string>([Buffer.from(state.c.publicKey).toString('hex'), Buffer.from(state.s?.publicKey ?? []).toString('hex')]);
    for (const k of keys) {
      if (!neighbours.includes(k.participantId)) fail(state, step, `"${k.participantId}" is not a neighbour of this participant in this round`);
      for (const [name, pk] of [['cPk', k.cPk], ['sPk', k.sPk]] as const) {
        if (!(pk instanceof Uint8Array) || pk.length !== KEY_BYTES) fail(state, step, `${name} of "${k.participantId}" must be ${KEY_BYTES} bytes`);
        const hex = Buffer.from(pk).toString('hex');
        // Equal keys mean a replayed or forged key set: masks would cancel against the wrong party.
        if (seenKeys.has(hex)) fail(state, step, `${name} of "${k.participantId}" repeats another public key of this round`);
        seenKeys.add(hex);
      }
    }
    if (keys.length + 1 < t) fail(state, step, `only ${keys.length} neighbours remain, fewer than the threshold ${t} minus this participant`);
    const coordinates = shareCoordinates(this.participantId, neighbours);
    const holders = [this.participantId, ...keys.map((k) => k.participantId)];
    const xs = holders.map((h) => coordinates.get(h) ?? fail(state, step, `no share coordinate for "${h}"`));
    const b = new Uint8Array(randomBytes(32));
    state.b = b;
    const bShares = shamir521.split(b, t, xs);
    const sShares = shamir521.split(state.sRaw, t, xs);
    state.bShares.set(this.participantId, (bShares[0] as { y: Uint8Array }).y);
    state.sShares.set(this.participantId, (sShares[0] as { y: Uint8Array }).y);
    const out: { to: string; ciphertext: Uint8Array }[] = [];
    keys.forEach((k, i) => {
      const bY = (bShares[i + 1] as { y: Uint8Array }).y;
      const sY = (sShares[i + 1] as { y: Uint8Array }).y;
      const plaintext = new Uint8Array(2 * SHARE_BYTES);
      plaintext.set(bY, 0);
      plaintext.set(sY, SHARE_BYTES);
      const key = this.agree(state, step, state.c, k.cPk, shareKeyContext(jobId, round), k.participantId);
      out.push({ to: k.participantId, ciphertext: seal(key, plaintext, shareAad(jobId, round, this.participantId, k.participantId)) });
      for (const secret of [plaintext, key, bY, sY]) secret.fill(0);
    });
    state.peers = new Map(keys.map((k) => [k.participantId, { cPk: k.cPk.slice(), sPk: k.sPk.slice() }]));
    state.stage = 'shares-sent';
    return { step: 'secagg-share-keys-result', from: 'participant', to: 'coordinator', payload: { round, shares: out.sort((a, z) => (a.to < z.to ? -1 : 1)) } };
  }

  private async collect(jobId: string, req: SecAggCollectRequest, train: SecAggTrain): Promise<SecAggReply> {
    const step = 'secagg-collect';
    const { round, shares } = req.payload;
    const state = this.state(jobId, round, step, 'shares-sent');
    // Before any await: a second collect for this round must not train and mask again under the same masks.
    state.stage = 'training';
    const t = state.config.threshold;
    if (req.payload.train.round !== round) fail(state, step, `the train request is for round ${req.payload.train.round}`);
    checkUnique(
      shares.map((s) => s.from),
      'shares',
      step,
    );
    if (shares.length + 1 < t) fail(state, step, `shares from only ${shares.length} neighbours arrived, fewer than the threshold ${t} minus this participant`);
    for (const { from, ciphertext } of shares) {
      const peer = state.peers.get(from);
      if (peer === undefined) fail(state, step, `a share from "${from}", whose keys this participant was never given`);
      if (!(ciphertext instanceof Uint8Array) || ciphertext.length !== SEALED_SHARES_BYTES) fail(state, step, `the sealed shares from "${from}" must be ${SEALED_SHARES_BYTES} bytes`);
      const key = this.agree(state, step, state.c, peer.cPk, shareKeyContext(jobId, round), from);
      let plaintext: Uint8Array;
      try {
        plaintext = open(key, ciphertext, shareAad(jobId, round, from, this.participantId));
      } catch (err) {
        throw new EduFedError('PROTOCOL', `SecAgg+ ${step} (job "${jobId}", round ${round}): the sealed shares from "${from}" failed authentication (tampered, or not addressed to "${this.participantId}")`, { cause: err });
      } finally {
        key.fill(0);
      }
      if (plaintext.length !== 2 * SHARE_BYTES) fail(state, step, `the shares from "${from}" have ${plaintext.length} bytes, expected ${2 * SHARE_BYTES}`);
      state.bShares.set(from, plaintext.slice(0, SHARE_BYTES));
      state.sShares.set(from, plaintext.slice(SHARE_BYTES));
      plaintext.fill(0);
    }
    const reply = await train({ step: 'train', from: 'coordinator', to: 'participant', payload: req.payload.train });
    if (this.rounds.get(this.key(jobId, round)) !== state) fail(state, step, 'the round was reset while training');
    if (reply.step === 'error') fail(state, step, `local training failed: ${reply.payload.message}`);
    if (reply.step !== 'train-result') fail(state, step, `local training answered "${reply.step}" instead of a train result`);
    const result = reply.payload;
    const global = req.payload.train.params;
    if (result.round !== round) fail(state, step, `local training answered round ${result.round}`);
    if (result.params.length !== global.length) fail(state, step, `local training returned ${result.params.length} parameters, the global model has ${global.length}`);
    const { clipRange, quantizationBits, weighting, maxWeight } = state.config;
    const weight = updateWeight(result.numExamples, weighting, maxWeight);
    const masked = quantizeWeightedDelta(global, result.params, weight, clipRange, quantizationBits, this.rng);
    const b = state.b;
    const s = state.s;
    if (b === undefined || s === undefined) fail(state, step, 'secrets missing (internal)');
    addMask(masked, b, 1);
    for (const [v, keys] of state.peers) {
      if (!state.bShares.has(v)) continue; // no shares from v: v left before collect, and no mask is shared with it
      const seed = this.agree(state, step, s, keys.sPk, maskContext(jobId, round, this.participantId, v), v);
      addMask(masked, seed, maskSign(this.participantId, v));
      seed.fill(0);
    }
    // The input is masked: the seed and the mask key are needed only as shares from now on.
    b.fill(0);
    state.b = undefined;
    state.sRaw.fill(0);
    state.s = undefined;
    state.stage = 'masked';
    const meta = { loss: result.loss, trainMs: result.trainMs, ...(result.summary !== undefined ? { summary: result.summary } : {}) };
    return { step: 'secagg-collect-result', from: 'participant', to: 'coordinator', payload: { round, masked, meta } };
  }

  private unmask(jobId: string, req: SecAggUnmaskRequest): SecAggReply {
    const step = 'secagg-unmask';
    const { round, survivors, dropped } = req.payload;
    const state = this.state(jobId, round, step, 'masked');
    // One unmask per round, answered or refused: the state goes whatever happens.
    try {
      const me = this.participantId;
      checkUnique(survivors, 'survivors', step);
      checkUnique(dropped, 'dropped', step);
      for (const v of survivors) {
        // The core safety check: b_v and s_sk_v together unmask v's individual input.
        if (dropped.includes(v)) fail(state, step, `"${v}" is listed both as a survivor and as dropped; refusing to reveal both shares of one participant`);
      }
      if (dropped.includes(me)) fail(state, step, `this participant "${me}" is listed as dropped`);
      if (!survivors.includes(me)) fail(state, step, `this participant "${me}" sent its masked input but is not listed as a survivor`);
      const closed = new Set([...state.config.neighbours, me]);
      for (const id of [...survivors, ...dropped]) if (!closed.has(id)) fail(state, step, `"${id}" is not in this participant's neighbourhood`);
      const t = state.config.threshold;
      if (survivors.length < t) fail(state, step, `only ${survivors.length} of the neighbourhood survived, below the threshold ${t}`);
      const pick = (owner: string, from: Map<string, Uint8Array>, what: string): OwnedShare => {
        const y = from.get(owner);
        if (y === undefined) fail(state, step, `this participant holds no ${what} share of "${owner}" (it never sent one)`);
        return { owner, share: y.slice() };
      };
      const bShares = survivors.map((v) => pick(v, state.bShares, 'self-mask'));
      const sShares = dropped.map((v) => pick(v, state.sShares, 'mask-key'));
      return { step: 'secagg-unmask-result', from: 'participant', to: 'coordinator', payload: { round, bShares, sShares } };
    } finally {
      this.discard(jobId, round);
    }
  }

  private agree(state: RoundState, step: string, own: X25519KeyPair, peerPublic: Uint8Array, context: string, peer: string): Uint8Array {
    try {
      return agreeKey(own.privateKey, peerPublic, context);
    } catch (err) {
      throw new EduFedError('PROTOCOL', `SecAgg+ ${step} (job "${state.jobId}", round ${state.round}): the public key of "${peer}" is unusable: ${toErrorInfo(err).message}`, { cause: err });
    }
  }
}
