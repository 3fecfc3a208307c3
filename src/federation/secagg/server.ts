/**
 * SecAgg+ on the coordinator: one secure round that yields the weighted sum of the survivors'
 * model deltas and nothing about any single one of them.
 *
 * Protocol: Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine
 * Learning", CCS 2017 (masking with pairwise and self masks, Shamir shares to survive dropouts),
 * restricted to a sparse neighbourhood graph as in Bell et al., "Secure Single-Server Aggregation
 * with (Poly)Logarithmic Overhead", CCS 2020 (SecAgg+).
 *
 * Stages (messages in `protocol.ts`; the coordinator only relays and sums):
 * 1. `secagg-setup`: each selected participant gets the threshold t, its neighbours in a seeded
 *    k-regular graph, and the quantisation settings; it answers two fresh X25519 public keys
 *    (c_pk seals shares, s_pk agrees masks).
 * 2. `secagg-share-keys`: each gets its live neighbours' keys and answers, per neighbour, an
 *    AES-GCM-sealed pair of Shamir t-of-(k+1) shares of its self-mask seed b_u and of its mask key
 *    s_sk_u (the coordinator cannot open them).
 * 3. `secagg-collect`: each gets the horizontal train request and the sealed shares addressed to
 *    it, trains, and answers y_u = Q(w_u, w_u·Δ_u) + PRG(b_u) + Σ_{v∈N(u)} ±PRG(KA(s_sk_u, s_pk_v))
 *    in Z_{2^32}, plus its plain loss, training time and evaluation histogram.
 * 4. `secagg-unmask`: each survivor is told which neighbours survived and which dropped after
 *    sharing keys, and answers b-shares for the former and s_sk-shares for the latter (never both
 *    for one participant). The coordinator reconstructs every needed secret from t shares, removes
 *    the self masks of the survivors and the dangling pairwise masks of the dropouts, and decodes.
 *
 * What the coordinator learns: Σ w_k and Σ w_k·clip(Δ_k) over the survivors (quantised), who
 * survived and who dropped at which stage, and the plain metadata (loss, training time, evaluation
 * histograms) a plain round reveals too. Masked inputs are uniformly random in Z_{2^32} to it.
 *
 * Collusion tolerance: the coordinator together with up to t − 1 members of a participant's
 * neighbourhood learns nothing about that participant's input beyond the sum; t of them can
 * reconstruct its secrets. Because t is always a strict majority of the neighbourhood and a
 * participant answers a single unmask request per round, a coordinator that lies about who dropped
 * cannot collect both kinds of shares of one participant from honest holders alone. Dropouts are
 * survived at any stage while every needed secret still has t live holders; otherwise the round
 * throws before reconstructing anything (no partial unmasking).
 *
 * Defaults ({@link DEFAULT_SECAGG_CONFIG}) follow Flower's `SecAggPlusWorkflow`: clipping_range 8.0,
 * max_weight 1000, quantization_range 2^22 (our `quantizationBits` 22), modulus_range 2^32 (our ring
 * is fixed at 2^32: uint32 arithmetic with no BigInt on the hot path; 2^22 levels leave room for
 * 1,024 participants, checked every round). Flower has no default for num_shares and
 * reconstruction_threshold (its example uses 3 and 2); ours are fractions: k ≈ half of the other
 * selected participants, capped at ⌈4·log2 n⌉ (see {@link resolveNeighbours}; num_shares = k + 1),
 * and t a strict majority of the k + 1 holders.
 */
import { ConfigError, EduFedError, toErrorInfo } from '../../core/errors.js';
import { hashString, seededRng, type Rng } from '../../core/rng.js';
import { agreeKey, x25519FromPrivate } from '../../crypto/key-agreement.js';
import { addMask } from '../../crypto/prg.js';
import { shamir521, type Share } from '../../crypto/shamir.js';
import type { TrainRequest } from '../horizontal/protocol.js';
import type { SecureDropped, SecureMeta, SecureRoundInput, SecureRoundOutput, SecureRoundRunner } from '../secure-round.js';
import type { EnvelopeBody } from '../../transport/channel.js';
import { encodeReply, encodeRequest } from './codec.js';
import { neighbourGraph, type NeighbourGraph } from './neighbours.js';
import {
  KEY_BYTES,
  maskContext,
  maskSign,
  SEALED_SHARES_BYTES,
  shareCoordinates,
  SHARE_BYTES,
  type PublicKeys,
  type SecAggReply,
  type SecAggRequest,
} from './protocol.js';
import { checkRingCapacity, decodeWeightedSum, ringAdd, type SecAggWeighting } from './quantize.js';

/** SecAgg+ settings of a job (the `privacy.secAgg` object of its configuration). */
export interface SecAggPlusConfig {
  /**
   * k: neighbours per participant (Flower's num_shares − 1). An integer ≥ 1, or a fraction in
   * (0, 1) of the other selected participants; k ≥ n − 1 is the complete graph (original SecAgg).
   */
  readonly neighbours: number;
  /**
   * t: shares needed to reconstruct a secret, out of the k + 1 holders (the participant and its
   * neighbours). An integer ≥ 2, or a fraction in (0, 1) of k + 1. Raised to a strict majority of
   * k + 1 when below it.
   */
  readonly threshold: number;
  /** Each delta value is clipped to [−clipRange, clipRange] before quantisation. */
  readonly clipRange: number;
  /** Quantisation levels 0 … 2^bits − 1; n · (2^bits − 1) must stay below 2^32. */
  readonly quantizationBits: number;
  /** `examples` weighting: w = min(n_k, maxWeight) / maxWeight. */
  readonly maxWeight: number;
  readonly weighting: SecAggWeighting;
}

/** Defaults, close to Flower's SecAggPlusWorkflow (see the module note). */
export const DEFAULT_SECAGG_CONFIG: SecAggPlusConfig = Object.freeze({
  neighbours: 0.5,
  threshold: 0.5,
  clipRange: 8,
  quantizationBits: 22,
  maxWeight: 1000,
  weighting: 'examples',
});

const CONFIG_KEYS: readonly (keyof SecAggPlusConfig)[] = ['neighbours', 'threshold', 'clipRange', 'quantizationBits', 'maxWeight', 'weighting'];

function isObject(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Turns a SecAgg+ configuration (untrusted JSON, partial or absent) into a complete one with defaults.
 * @throws ConfigError naming the field (`${where}.threshold`, …): an unknown key, a count that is
 *   neither a positive integer nor a fraction in (0, 1), an integer threshold that is not a strict
 *   majority of neighbours + 1 or exceeds it, a non-positive clip or maxWeight, bits outside [1, 31].
 */
export function validateSecAggConfig(value: unknown, where = 'privacy.secAgg'): SecAggPlusConfig {
  if (value === undefined) return DEFAULT_SECAGG_CONFIG;
  if (!isObject(value)) throw new ConfigError(where, 'must be an object');
  for (const k of Object.keys(value)) {
    if (!CONFIG_KEYS.some((c) => c === k)) throw new ConfigError(`${where}.${k}`, `is not a SecAgg+ setting; expected one of: ${CONFIG_KEYS.join(', ')}`);
  }
  const number = (key: keyof SecAggPlusConfig): number => {
    const v = value[key] ?? DEFAULT_SECAGG_CONFIG[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${where}.${key}`, `must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const count = (key: 'neighbours' | 'threshold', min: number): number => {
    const v = number(key);
    if (!((v > 0 && v < 1) || (Number.isInteger(v) && v >= min))) {
      throw new ConfigError(`${where}.${key}`, `must be an integer ≥ ${min} or a fraction in (0, 1), got ${v}`);
    }
    return v;
  };
  const neighbours = count('neighbours', 1);
  const threshold = count('threshold', 2);
  if (neighbours >= 1 && threshold >= 1) {
    if (threshold > neighbours + 1) throw new ConfigError(`${where}.threshold`, `${threshold} exceeds the ${neighbours + 1} holders of each secret (neighbours + 1)`);
    if (2 * threshold <= neighbours + 1) {
      throw new ConfigError(
        `${where}.threshold`,
        `${threshold} is not a strict majority of the ${neighbours + 1} holders of each secret; use at least ${Math.floor((neighbours + 1) / 2) + 1} (a smaller t would let a coordinator that lies about dropouts unmask one participant)`,
      );
    }
  }
  const clipRange = number('clipRange');
  if (!(clipRange > 0)) throw new ConfigError(`${where}.clipRange`, `must be positive, got ${clipRange}`);
  const quantizationBits = number('quantizationBits');
  if (!Number.isInteger(quantizationBits) || quantizationBits < 1 || quantizationBits > 31) {
    throw new ConfigError(`${where}.quantizationBits`, `must be an integer in [1, 31], got ${quantizationBits}`);
  }
  const maxWeight = number('maxWeight');
  if (!(maxWeight > 0)) throw new ConfigError(`${where}.maxWeight`, `must be positive, got ${maxWeight}`);
  const weighting = value['weighting'] ?? DEFAULT_SECAGG_CONFIG.weighting;
  if (weighting !== 'examples' && weighting !== 'uniform') throw new ConfigError(`${where}.weighting`, `must be "examples" or "uniform", got ${JSON.stringify(weighting)}`);
  return { neighbours, threshold, clipRange, quantizationBits, maxWeight, weighting };
}

/**
 * k for `selected` participants: an integer is taken as is; a fraction f of the others is capped at
 * ⌈4·log2 n⌉, the logarithmic neighbourhood that makes SecAgg+ scale (Bell et al. 2020 show
 * k = O(log n) suffices), so a 13-platform job uses ⌈f·12⌉ and a 500-participant one 36, not 250.
 */
export function resolveNeighbours(neighbours: number, n: number): number {
  if (neighbours >= 1) return neighbours;
  return Math.max(1, Math.min(Math.round(neighbours * (n - 1)), Math.ceil(4 * Math.log2(Math.max(2, n)))));
}

/** The graph and threshold of one round. */
export interface SecAggRoundPlan {
  readonly graph: NeighbourGraph;
  /** t, a strict majority of graph.degree + 1. */
  readonly threshold: number;
}

/**
 * The neighbourhood graph and threshold of a round among `selected` (resolving fractions against
 * the number selected), the graph shuffled by `rng`.
 * @throws EduFedError (ROUND) when an integer threshold exceeds the holders a neighbourhood has.
 */
export function planSecAggRound(config: SecAggPlusConfig, selected: readonly string[], rng: Rng): SecAggRoundPlan {
  const n = selected.length;
  const k = resolveNeighbours(config.neighbours, n);
  const graph = neighbourGraph(selected, k, rng);
  const holders = graph.degree + 1;
  const majority = Math.floor(holders / 2) + 1;
  const asked = config.threshold < 1 ? Math.ceil(config.threshold * holders) : config.threshold;
  if (asked > holders) {
    throw new EduFedError('ROUND', `threshold ${asked} exceeds the ${holders} holders of each secret (neighbours + 1) among ${n} selected participants`);
  }
  return { graph, threshold: Math.max(asked, majority) };
}

/**
 * How the coordinator reaches one participant in a SecAgg+ round: resolves with the validated reply
 * (an error reply is a value), rejects on timeout, abort or disconnect.
 */
export type SecAggCall = (participantId: string, req: SecAggRequest, opts: { readonly timeoutMs: number; readonly signal?: AbortSignal }) => Promise<SecAggReply>;

type Stage = 'setup' | 'share-keys' | 'collect' | 'unmask';

function bodyBytes(body: EnvelopeBody): number {
  let n = Buffer.byteLength(JSON.stringify(body.header) ?? '');
  for (const t of body.tensors) n += t.data.byteLength;
  return n;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

/**
 * A {@link SecureRoundRunner} running SecAgg+ through `call`. `rng` seeds the neighbourhood graphs
 * (one draw at construction; each round's graph then depends only on it, the job and the round), so
 * pass a generator seeded from the job's seed for a resumed job to draw the same graphs.
 * Participants failing at any stage are dropped with the stage in the reason. The output's `bytes`
 * counts the payload (JSON header and tensor data) of every message, without envelope framing.
 * @throws ConfigError for an invalid configuration (at once) or a round whose participant count
 *   overflows the ring (per round); EduFedError (ROUND) when the quorum or a needed secret's t
 *   shares cannot be met, before anything is reconstructed.
 */
export function secAggPlusRound(config: SecAggPlusConfig, call: SecAggCall, rng: Rng): SecureRoundRunner {
  const cfg = validateSecAggConfig(config, 'secAgg');
  const graphSeed = rng.nextU32();
  return (input) => runRound(cfg, call, graphSeed, input);
}

async function runRound(cfg: SecAggPlusConfig, call: SecAggCall, graphSeed: number, input: SecureRoundInput): Promise<SecureRoundOutput> {
  const { jobId, round, global, timeoutMs } = input;
  const selected = [...input.selected].sort();
  const abort = (message: string, cause?: unknown): EduFedError =>
    new EduFedError('ROUND', `secure aggregation aborted in round ${round}: ${message}`, cause !== undefined ? { cause } : undefined);
  if (new Set(selected).size !== selected.length) throw new ConfigError('selected', 'lists a participant twice');
  if (selected.length < 2) throw abort(`${selected.length} participant selected; a secure sum needs at least 2`);
  checkRingCapacity(selected.length, cfg.quantizationBits);
  let plan: SecAggRoundPlan;
  try {
    plan = planSecAggRound(cfg, selected, seededRng(hashString(`${graphSeed}|${jobId}|${round}|secagg+ graph`)));
  } catch (err) {
    throw abort(toErrorInfo(err).message, err);
  }
  const { graph, threshold: t } = plan;
  const neighboursOf = (p: string): readonly string[] => graph.neighbours.get(p) ?? [];
  const quorum = Math.max(1, input.minParticipants);
  const m = global.length;

  const dropped: SecureDropped[] = [];
  const drop = (participantId: string, stage: Stage, reason: string, flagged: boolean): void => {
    dropped.push({ participantId, reason: `secagg ${stage}: ${reason}`, flagged });
  };
  const droppedSummary = (): string => (dropped.length > 0 ? `; dropped: ${dropped.map((d) => `${d.participantId} (${d.reason})`).join('; ')}` : '');
  const bytes = { sent: 0, received: 0 };

  /** Sends one request to each of `ids` at once; resolves with the replies, failures listed separately. */
  async function ask(ids: readonly string[], make: (id: string) => SecAggRequest): Promise<{ replies: Map<string, SecAggReply>; failed: Map<string, string> }> {
    const replies = new Map<string, SecAggReply>();
    const failed = new Map<string, string>();
    await Promise.all(
      ids.map(async (id) => {
        const req = make(id);
        bytes.sent += bodyBytes(encodeRequest(jobId, req));
        try {
          const reply = await call(id, req, { timeoutMs });
          try {
            bytes.received += bodyBytes(encodeReply(jobId, round, reply));
          } catch {
            // A malformed in-process reply cannot be sized; it is refused below.
          }
          if (reply.step === 'secagg-error') failed.set(id, reply.payload.message);
          else replies.set(id, reply);
        } catch (err) {
          failed.set(id, toErrorInfo(err).message);
        }
      }),
    );
    return { replies, failed };
  }

  /** Drops failures; returns the replies, in `ids` order. */
  async function stage(name: Stage, ids: readonly string[], make: (id: string) => SecAggRequest): Promise<[string, SecAggReply][]> {
    const { replies, failed } = await ask(ids, make);
    for (const id of ids) {
      const reason = failed.get(id);
      if (reason !== undefined) drop(id, name, reason, false);
    }
    return ids.flatMap((id): [string, SecAggReply][] => {
      const r = replies.get(id);
      return r !== undefined ? [[id, r]] : [];
    });
  }

  /** Before training: every live participant's secrets must still have t live holders, and the quorum must hold. */
  function checkLive(after: Stage, live: readonly string[]): void {
    if (live.length < quorum) throw abort(`only ${live.length} participants remain after ${after}, quorum is ${quorum}${droppedSummary()}`);
    const alive = new Set(live);
    for (const p of live) {
      const holders = [...neighboursOf(p), p].filter((h) => alive.has(h)).length;
      if (holders < t) throw abort(`only ${holders} of t = ${t} shares of "${p}"'s secrets can still arrive after ${after}${droppedSummary()}`);
    }
  }

  const wrong = (reply: SecAggReply, expected: SecAggReply['step']): string | undefined => {
    if (reply.step === 'secagg-error') return reply.payload.message;
    if (reply.step !== expected) return `answered "${reply.step}" instead of "${expected}"`;
    return reply.payload.round !== round ? `answered round ${reply.payload.round} instead of ${round}` : undefined;
  };

  // Stage 1: setup. Fresh keys from every selected participant.
  const keys = new Map<string, PublicKeys>();
  for (const [id, reply] of await stage('setup', selected, (id) => ({
    step: 'secagg-setup',
    from: 'coordinator',
    to: 'participant',
    payload: {
      round,
      config: { threshold: t, neighbours: neighboursOf(id), clipRange: cfg.clipRange, quantizationBits: cfg.quantizationBits, weighting: cfg.weighting, maxWeight: cfg.maxWeight },
    },
  }))) {
    const problem = wrong(reply, 'secagg-setup-result');
    if (problem !== undefined || reply.step !== 'secagg-setup-result') drop(id, 'setup', problem ?? 'wrong reply', true);
    else if (!(reply.payload.cPk instanceof Uint8Array && reply.payload.cPk.length === KEY_BYTES && reply.payload.sPk instanceof Uint8Array && reply.payload.sPk.length === KEY_BYTES)) {
      drop(id, 'setup', `public keys must be ${KEY_BYTES} bytes each`, true);
    } else keys.set(id, { cPk: reply.payload.cPk, sPk: reply.payload.sPk });
  }
  const keyed = selected.filter((id) => keys.has(id));
  checkLive('setup', keyed);

  // Stage 2: share keys. Relay live neighbours' keys; collect one sealed share pair per neighbour.
  const sentKeys = new Map<string, readonly string[]>();
  const inbox = new Map<string, { from: string; ciphertext: Uint8Array }[]>(keyed.map((id) => [id, []]));
  const shared: string[] = [];
  for (const [id, reply] of await stage('share-keys', keyed, (id) => {
    const live = neighboursOf(id).filter((v) => keys.has(v));
    sentKeys.set(id, live);
    return {
      step: 'secagg-share-keys',
      from: 'coordinator',
      to: 'participant',
      payload: { round, keys: live.map((v) => ({ participantId: v, ...(keys.get(v) as PublicKeys) })) },
    };
  })) {
    const problem = wrong(reply, 'secagg-share-keys-result');
    if (problem !== undefined || reply.step !== 'secagg-share-keys-result') {
      drop(id, 'share-keys', problem ?? 'wrong reply', true);
      continue;
    }
    const recipients = reply.payload.shares.map((s) => s.to);
    if (!sameSet(recipients, sentKeys.get(id) ?? []) || new Set(recipients).size !== recipients.length) {
      drop(id, 'share-keys', 'sealed shares are not addressed to exactly the neighbours whose keys it was sent', true);
    } else if (!reply.payload.shares.every((s) => s.ciphertext instanceof Uint8Array && s.ciphertext.length === SEALED_SHARES_BYTES)) {
      drop(id, 'share-keys', `every sealed share pair must be ${SEALED_SHARES_BYTES} bytes`, true);
    } else {
      shared.push(id);
      for (const s of reply.payload.shares) inbox.get(s.to)?.push({ from: id, ciphertext: s.ciphertext });
    }
  }
  checkLive('share-keys', shared);

  // Stage 3: collect. Train requests carry the shares addressed to each; masked inputs come back.
  const train: TrainRequest['payload'] = { round, params: global, instructions: input.instructions, ...(input.evaluate ? { evaluate: true } : {}) };
  const sharedSet = new Set(shared);
  const sum = new Uint32Array(m + 1);
  const meta = new Map<string, SecureMeta>();
  const survivors: string[] = [];
  for (const [id, reply] of await stage('collect', shared, (id) => ({
    step: 'secagg-collect',
    from: 'coordinator',
    to: 'participant',
    payload: { round, train, shares: (inbox.get(id) ?? []).filter((s) => sharedSet.has(s.from)) },
  }))) {
    const problem = wrong(reply, 'secagg-collect-result');
    if (problem !== undefined || reply.step !== 'secagg-collect-result') drop(id, 'collect', problem ?? 'wrong reply', true);
    else if (!(reply.payload.masked instanceof Uint32Array) || reply.payload.masked.length !== m + 1) {
      drop(id, 'collect', `masked input must be a Uint32Array of ${m + 1} elements (parameters + weight)`, true);
    } else {
      ringAdd(sum, reply.payload.masked);
      meta.set(id, reply.payload.meta);
      survivors.push(id);
    }
  }
  inbox.clear();
  const alive = new Set(survivors);
  if (survivors.length < quorum) throw abort(`only ${survivors.length} masked inputs arrived, quorum is ${quorum}${droppedSummary()}`);
  // Dropped after sharing keys: survivors masked with them, so their mask keys are needed (if any neighbour survived).
  const late = shared.filter((id) => !alive.has(id));
  const lateSet = new Set(late);
  const needed = late.filter((v) => neighboursOf(v).some((u) => alive.has(u)));
  for (const u of survivors) {
    const holders = [...neighboursOf(u), u].filter((h) => alive.has(h)).length;
    if (holders < t) throw abort(`only ${holders} of t = ${t} shares of "${u}"'s self-mask seed can arrive after collect${droppedSummary()}`);
  }
  for (const v of needed) {
    const holders = neighboursOf(v).filter((h) => alive.has(h)).length;
    if (holders < t) throw abort(`only ${holders} of t = ${t} shares of dropped "${v}"'s mask key can arrive after collect${droppedSummary()}`);
  }

  // Stage 4: unmask. Each survivor gives b-shares of surviving neighbours, s_sk-shares of dropped ones.
  const asked = new Map<string, { survivors: readonly string[]; dropped: readonly string[] }>();
  const { replies: unmaskReplies, failed: unmaskFailed } = await ask(survivors, (id) => {
    const request = { survivors: [...neighboursOf(id), id].filter((v) => alive.has(v)).sort(), dropped: neighboursOf(id).filter((v) => lateSet.has(v)) };
    asked.set(id, request);
    return { step: 'secagg-unmask', from: 'coordinator', to: 'participant', payload: { round, ...request } };
  });
  const bShares = new Map<string, Share[]>(survivors.map((u) => [u, []]));
  const sShares = new Map<string, Share[]>(needed.map((v) => [v, []]));
  const unmaskProblems: string[] = [...unmaskFailed].map(([id, reason]) => `${id} (${reason})`);
  const failedAfterInput: SecureDropped[] = [...unmaskFailed].map(([participantId, reason]) => ({ participantId, reason: `secagg unmask: ${reason}`, flagged: false }));
  const coordinates = new Map<string, ReadonlyMap<string, number>>();
  const xOf = (owner: string, holder: string): number | undefined => {
    let c = coordinates.get(owner);
    if (c === undefined) {
      c = shareCoordinates(owner, neighboursOf(owner));
      coordinates.set(owner, c);
    }
    return c.get(holder);
  };
  for (const holder of survivors) {
    const reply = unmaskReplies.get(holder);
    const request = asked.get(holder);
    if (reply === undefined || request === undefined) continue;
    const problem = wrong(reply, 'secagg-unmask-result');
    if (problem !== undefined || reply.step !== 'secagg-unmask-result') {
      unmaskProblems.push(`${holder} (${problem ?? 'wrong reply'})`);
      failedAfterInput.push({ participantId: holder, reason: `secagg unmask: ${problem ?? 'wrong reply'}`, flagged: reply.step !== 'secagg-error' });
      continue;
    }
    const { bShares: b, sShares: s } = reply.payload;
    const owners = (list: readonly { owner: string }[]): string[] => list.map((x) => x.owner);
    const wellFormed = [...b, ...s].every((x) => x.share instanceof Uint8Array && x.share.length === SHARE_BYTES);
    if (!sameSet(owners(b), request.survivors) || !sameSet(owners(s), request.dropped) || !wellFormed) {
      unmaskProblems.push(`${holder} (shares do not answer the request)`);
      failedAfterInput.push({ participantId: holder, reason: 'secagg unmask: its shares do not answer the request', flagged: true });
      continue;
    }
    for (const { owner, share } of b) {
      const x = xOf(owner, holder);
      if (x !== undefined) bShares.get(owner)?.push({ x, y: share });
    }
    for (const { owner, share } of s) {
      const x = xOf(owner, holder);
      if (x !== undefined) sShares.get(owner)?.push({ x, y: share });
    }
  }
  // Every count first: nothing is reconstructed unless everything can be.
  const problems = unmaskProblems.length > 0 ? `; unmask failures: ${unmaskProblems.join('; ')}` : '';
  for (const [owner, list] of bShares) {
    if (list.length < t) throw abort(`only ${list.length} of t = ${t} shares of "${owner}"'s self-mask seed arrived${problems}${droppedSummary()}`);
  }
  for (const [owner, list] of sShares) {
    if (list.length < t) throw abort(`only ${list.length} of t = ${t} shares of dropped "${owner}"'s mask key arrived${problems}${droppedSummary()}`);
  }

  for (const [owner, list] of bShares) {
    let b: Uint8Array;
    try {
      b = shamir521.combine(list, t);
    } catch (err) {
      throw abort(`the shares of "${owner}"'s self-mask seed are inconsistent`, err);
    }
    addMask(sum, b, -1);
    b.fill(0);
  }
  for (const [v, list] of sShares) {
    let raw: Uint8Array;
    try {
      raw = shamir521.combine(list, t);
    } catch (err) {
      throw abort(`the shares of dropped "${v}"'s mask key are inconsistent`, err);
    }
    const pair = x25519FromPrivate(raw);
    raw.fill(0);
    const announced = keys.get(v)?.sPk;
    // The public key announced at setup commits to s_sk: a wrong share shows here instead of silently corrupting the sum.
    if (announced === undefined || !Buffer.from(pair.publicKey).equals(Buffer.from(announced))) {
      throw abort(`the mask key of dropped "${v}" reconstructed from its shares does not match its public key (a holder sent a wrong share)`);
    }
    for (const u of neighboursOf(v)) {
      const uKeys = keys.get(u);
      if (!alive.has(u) || uKeys === undefined) continue;
      const seed = agreeKey(pair.privateKey, uKeys.sPk, maskContext(jobId, round, u, v));
      // u added maskSign(u, v)·PRG(seed); take it out.
      addMask(sum, seed, maskSign(u, v) === 1 ? -1 : 1);
      seed.fill(0);
    }
  }

  const { weightedDeltaSum, weightSum } = decodeWeightedSum(sum, survivors.length, cfg.clipRange, cfg.quantizationBits);
  sum.fill(0);
  dropped.sort((a, b) => (a.participantId < b.participantId ? -1 : a.participantId > b.participantId ? 1 : 0));
  failedAfterInput.sort((a, b) => (a.participantId < b.participantId ? -1 : a.participantId > b.participantId ? 1 : 0));
  return { weightedDeltaSum, weightSum, survivors, dropped, ...(failedAfterInput.length > 0 ? { failedAfterInput } : {}), meta, bytes };
}
