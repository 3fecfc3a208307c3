/**
 * Vertical federated training: every message between the arbiter (the coordinator, also the
 * dealer of correlated randomness), the label holder and the feature holders, declared once as
 * `{ step, from, to, payload }`. Every `from` and `to` names a role and a participant id, so a
 * channel's two ends can be read off the type (FATE's guest/host/arbiter channels, but typed).
 *
 * Parties never talk directly: a party-to-party message (`to.role` is not `arbiter`) goes to the
 * arbiter, which checks the step's roles and forwards it unchanged. In the secure modes its
 * payload is sealed end to end with AES-256-GCM under agreeKey(X25519) of the two parties, so the
 * relaying arbiter, which knows every dealer seed, cannot open it.
 *
 * One job:
 * 1. `hello` → `hello-result`: a fresh X25519 agreement key per party.
 * 2. `setup` (config, directory of agreement keys, the party's own row of each aligned learner,
 *    and in `secure-lr` the seed of the feature holder's mask R_k) → in `secure-lr` each feature
 *    holder sends `masked-features` (X_k − R_k, sealed) to the label holder → `setup-result`.
 * 3. Per epoch: `epoch-start` (with the dealer's material in `secure-lr`), then per batch
 *    `partial-logits` (or `embeddings`) from each feature holder to the label holder and
 *    `residual` / `gradient-shares` (or `embedding-gradients`) back, then `epoch-end`.
 * 4. `evaluate`: feature holders send `partial-logits` of the test positions; the label holder
 *    answers `evaluate-result` with a mergeable summary (no per-row scores leave it).
 * 5. `score` (joint inference, cold start): partial logits of the queried learners → `score-result`.
 * 6. `finish` → `finish-result`: every party wipes its keys and masks.
 * A party's failure at any step is an `error` value sent to the arbiter.
 *
 * Positions: alignment (PSI) puts the learners common to the job in one canonical order, training
 * positions [0, nTrain) first, then test positions [nTrain, n). Each party gets only its own row
 * index per position, −1 where it lacks the learner (then its features are imputed).
 *
 * Threat model (`secure-lr`; SecureML's client-aided setting, Mohassel & Zhang, S&P 2017):
 * every party and the arbiter follow the protocol but may try to learn from what they see
 * (honest-but-curious), and the arbiter, the dealer of correlated randomness, colludes with no
 * party. Under that assumption:
 * - a feature holder k learns its own weights and its exact gradient X_k[B]ᵀd per batch (as a
 *   FATE host does), the number of aligned learners and how many of them it lacks; d' = d − s is
 *   uniform to it, so it sees no residual, hence no label. Its gradient is d_k linear equations in
 *   the b residuals of a batch: keep batches well above the feature count;
 * - the label holder C learns Σ_k z_k per learner it scores (training batches, test, queries): the
 *   exact sigmoid needs it (FATE avoids it with a Taylor approximation of the sigmoid, which is
 *   lossy). With one feature holder that is z_k itself. Across steps these sums also reveal
 *   products of the feature holders' Gram matrices with its own residuals. It holds only
 *   E_k = X_k − R_k and t_C, both uniform to it, and never a feature holder's weights or gradient;
 * - the arbiter learns seeds, payload sizes, the per-epoch training loss, the test summary, the
 *   scores it asks for, feature counts, and each party's aligned row indices and presence pattern
 *   (positions, never identifiers);
 * - collusions: arbiter + C reveal X_k (E_k + R_k); arbiter + k reveal d, hence the labels; C with
 *   one of two feature holders reveals the other's z_k.
 * Not covered: an active arbiter (it relays the agreement keys unauthenticated, so it could stand in
 * the middle; binding the keys to TLS identities closes that), and parties that send wrong values
 * (poisoning is not detected). AES-GCM does stop the relay from altering a sealed payload.
 *
 * `plain-lr` is a speed baseline: feature holders see the residuals (their signs are the labels)
 * and C sees every z_k. `split-nn` is weaker than `secure-lr`: C sees every feature holder's
 * embeddings, a learned summary of its features that model inversion can partly undo, and feature
 * holders see ∂loss/∂embedding per learner, whose norms and directions leak labels (Li et al.,
 * "Label Leakage and Protection in Two-party Split Learning", ICLR 2022). Gaussian noise on the
 * embeddings (`noiseStd`, from the OS CSPRNG) blunts the first; it carries no formal guarantee.
 */
import type { ErrorInfo } from '../../core/errors.js';
import type { EvalSummary } from '../../core/metrics.js';

/** The three roles of a vertical job. */
export type VerticalRole = 'arbiter' | 'label-holder' | 'feature-holder';
/** Roles that hold data. */
export type PartyRole = Exclude<VerticalRole, 'arbiter'>;

/** One end of a channel. */
export interface Endpoint<R extends VerticalRole = VerticalRole> {
  readonly role: R;
  readonly id: string;
}

/** The vertical algorithms. */
export type VerticalMode =
  /** Logistic regression on additive secret shares in Z_2^64 with dealer-given correlations (SecureML). */
  | 'secure-lr'
  /** The same logistic regression with residuals and partial logits in the clear: leaks labels; the speed baseline. */
  | 'plain-lr'
  /** A split neural network: bottom models at every party, the top model at the label holder. */
  | 'split-nn';

/** The split network's shape; every party uses the same bottom shape over its own features. */
export interface SplitNnConfig {
  /** Hidden widths of each bottom model (ReLU). */
  readonly bottomHidden: readonly number[];
  /** Width of each party's embedding (the bottom model's linear output). */
  readonly embedding: number;
  /** Hidden widths of the top model (ReLU) before its sigmoid output. */
  readonly topHidden: readonly number[];
  /** Standard deviation of Gaussian noise the feature holders add to every embedding they send (default 0). */
  readonly noiseStd?: number;
}

/** The training plan every party receives; the batch order follows from `seed` alone. */
export interface VerticalTrainConfig {
  readonly jobId: string;
  readonly mode: VerticalMode;
  readonly epochs: number;
  /** Rows per mini-batch; 0 = the whole training set. */
  readonly batchSize: number;
  readonly learningRate: number;
  /** L2 penalty 0.5·l2·‖w‖² on weights (not the bias), as the centralized model uses. */
  readonly l2: number;
  /** Public seed of the batch order (shared, so every party walks the same batches). */
  readonly seed: number;
  /** Fixed-point fraction bits f of the ring encoding (`secure-lr`). */
  readonly fracBits: number;
  /** Required in `split-nn` mode. */
  readonly splitNn?: SplitNnConfig;
}

/** A party as listed in the setup: its role and its agreement key, for sealing and pairwise masks. */
export interface DirectoryEntry {
  readonly id: string;
  readonly role: PartyRole;
  /** Raw 32-byte X25519 public key. */
  readonly agreementKey: Uint8Array;
}

/** For the label holder: which aligned positions a feature holder has (1) or lacks (0). */
export interface Presence {
  readonly party: string;
  readonly present: Uint8Array;
}

/** Which computation a batch of partial logits or embeddings belongs to. */
export type Phase =
  | { readonly kind: 'train'; readonly epoch: number }
  | { readonly kind: 'evaluate' }
  | { readonly kind: 'score'; readonly queryId: string };

/** A payload either in the clear (`plain-lr`) or sealed for its receiver (nonce ‖ ciphertext ‖ tag). */
export type Carried<P> = { readonly encoding: 'plain'; readonly values: P } | { readonly encoding: 'sealed'; readonly sealed: Uint8Array };

/** The dealer's per-epoch material for the label holder (`secure-lr`). */
export interface LabelHolderMaterial {
  readonly role: 'label-holder';
  /** Seed of s: one ring element per training position of the epoch, in batch order; d' = d − s. */
  readonly sSeed: Uint8Array;
  /** Per feature holder: t_C for every batch of the epoch, batch-major (batches × d_k ring elements), t_C = R_kᵀs − t_k. */
  readonly shares: readonly { readonly party: string; readonly tC: Uint32Array }[];
}

/** The dealer's per-epoch material for a feature holder (`secure-lr`). */
export interface FeatureHolderMaterial {
  readonly role: 'feature-holder';
  /** Seed of t_k: batches × d_k ring elements, batch-major. */
  readonly tSeed: Uint8Array;
}

interface Message<S extends string, F extends VerticalRole, T extends VerticalRole, P> {
  readonly step: S;
  readonly from: Endpoint<F>;
  readonly to: Endpoint<T>;
  readonly payload: P;
}

/** 1. Asks a party for a fresh agreement key for this job. */
export type Hello = Message<'hello', 'arbiter', PartyRole, { readonly jobId: string }>;
/** 1. A party's fresh X25519 public key. */
export type HelloResult = Message<'hello-result', PartyRole, 'arbiter', { readonly jobId: string; readonly agreementKey: Uint8Array }>;

/** 2. The plan, the directory and the party's aligned rows. */
export type Setup = Message<
  'setup',
  'arbiter',
  PartyRole,
  {
    readonly config: VerticalTrainConfig;
    readonly directory: readonly DirectoryEntry[];
    /** The party's own row index at each aligned position (−1: it lacks the learner). */
    readonly rows: Int32Array;
    /** Positions [0, nTrain) are training rows. */
    readonly nTrain: number;
    /** Label holder only: which positions each feature holder has. */
    readonly presence?: readonly Presence[];
    /** Feature holder in `secure-lr` only: the 32-byte seed of its mask matrix R_k. */
    readonly maskSeed?: Uint8Array;
  }
>;
/**
 * 2. `secure-lr`: E_k = enc(X_k) − R_k over the training positions (nTrain × cols ring elements,
 * row-major), sealed for the label holder. Uniformly random to it, since R_k is unknown to it.
 */
export type MaskedFeatures = Message<
  'masked-features',
  'feature-holder',
  'label-holder',
  { readonly jobId: string; readonly rows: number; readonly cols: number; readonly sealed: Uint8Array }
>;
/** 2. The party is ready; `dim` is its number of features (the label holder's includes presence indicators). */
export type SetupResult = Message<'setup-result', PartyRole, 'arbiter', { readonly jobId: string; readonly dim: number }>;

/** 3. Starts an epoch; in `secure-lr` carries the dealer's material for it. */
export type EpochStart = Message<
  'epoch-start',
  'arbiter',
  PartyRole,
  { readonly jobId: string; readonly epoch: number; readonly material?: LabelHolderMaterial | FeatureHolderMaterial }
>;
/**
 * 3–5. A feature holder's partial logits z_k = X_k w_k of one batch (training) or of all queried
 * positions (`evaluate`, `score`; batch 0). `secure-lr`: sealed fixed-point ring elements, plus
 * pairwise masks between feature holders when there are two or more, so that the label holder
 * learns only Σ_k z_k per learner. `plain-lr`: float64 values in the clear.
 */
export type PartialLogits = Message<
  'partial-logits',
  'feature-holder',
  'label-holder',
  { readonly jobId: string; readonly phase: Phase; readonly batch: number; readonly data: Carried<Float64Array> }
>;
/** 3. `plain-lr`: the residuals d = σ(z) − y of a batch, in the clear (they reveal the labels). */
export type Residual = Message<
  'residual',
  'label-holder',
  'feature-holder',
  { readonly jobId: string; readonly epoch: number; readonly batch: number; readonly residual: Float64Array }
>;
/**
 * 3. `secure-lr`: the label holder's message of a batch, sealed: the masked residual d' = enc(d) − s
 * (b ring elements) then its gradient share E_k[batch]ᵀ enc(d) + t_C (d_k ring elements).
 * The feature holder adds R_k[batch]ᵀ d' + t_k and gets exactly enc(X_k)ᵀ enc(d) = its gradient sum.
 */
export type GradientShares = Message<
  'gradient-shares',
  'label-holder',
  'feature-holder',
  { readonly jobId: string; readonly epoch: number; readonly batch: number; readonly sealed: Uint8Array }
>;
/** 3–5. `split-nn`: a feature holder's embeddings (rows × width float64, row-major), sealed. */
export type Embeddings = Message<
  'embeddings',
  'feature-holder',
  'label-holder',
  { readonly jobId: string; readonly phase: Phase; readonly batch: number; readonly sealed: Uint8Array }
>;
/** 3. `split-nn`: ∂loss/∂embedding for a feature holder's batch (rows × width float64), sealed. */
export type EmbeddingGradients = Message<
  'embedding-gradients',
  'label-holder',
  'feature-holder',
  { readonly jobId: string; readonly epoch: number; readonly batch: number; readonly sealed: Uint8Array }
>;
/** 3. A party finished an epoch; the label holder reports the epoch's mean training loss. */
export type EpochEnd = Message<'epoch-end', PartyRole, 'arbiter', { readonly jobId: string; readonly epoch: number; readonly loss?: number }>;

/** 4. Asks every party to score the test positions. */
export type Evaluate = Message<'evaluate', 'arbiter', PartyRole, { readonly jobId: string }>;
/** 4. The label holder's mergeable summary of the test positions (`core/metrics.ts`). */
export type EvaluateResult = Message<'evaluate-result', 'label-holder', 'arbiter', { readonly jobId: string; readonly summary: EvalSummary }>;

/**
 * 5. Joint inference: score learners found by a fresh alignment of the query. `rows` is the
 * party's own row per queried learner (−1: unknown to it, features imputed).
 */
export type Score = Message<
  'score',
  'arbiter',
  PartyRole,
  { readonly jobId: string; readonly queryId: string; readonly rows: Int32Array; readonly presence?: readonly Presence[] }
>;
/** 5. P(y = 1) for each queried learner, computed by the label holder. */
export type ScoreResult = Message<
  'score-result',
  'label-holder',
  'arbiter',
  { readonly jobId: string; readonly queryId: string; readonly probabilities: Float64Array }
>;

/** 6. Ends the job: parties wipe their keys, masks and shares. */
export type Finish = Message<'finish', 'arbiter', PartyRole, { readonly jobId: string }>;
/** 6. The party has wiped its secrets. */
export type FinishResult = Message<'finish-result', PartyRole, 'arbiter', { readonly jobId: string }>;

/** A party's failure at any step, as a value. */
export type VerticalError = Message<'error', PartyRole, 'arbiter', { readonly jobId: string; readonly error: ErrorInfo }>;

/** Every message of a vertical job. */
export type VerticalMessage =
  | Hello
  | HelloResult
  | Setup
  | MaskedFeatures
  | SetupResult
  | EpochStart
  | PartialLogits
  | Residual
  | GradientShares
  | Embeddings
  | EmbeddingGradients
  | EpochEnd
  | Evaluate
  | EvaluateResult
  | Score
  | ScoreResult
  | Finish
  | FinishResult
  | VerticalError;

/** The step names. */
export type VerticalStep = VerticalMessage['step'];

/** Sender and receiver roles of every step: the arbiter's relay and every role check against this table. */
export const STEP_ROLES: Readonly<Record<VerticalStep, { readonly from: readonly VerticalRole[]; readonly to: readonly VerticalRole[] }>> = {
  hello: { from: ['arbiter'], to: ['label-holder', 'feature-holder'] },
  'hello-result': { from: ['label-holder', 'feature-holder'], to: ['arbiter'] },
  setup: { from: ['arbiter'], to: ['label-holder', 'feature-holder'] },
  'masked-features': { from: ['feature-holder'], to: ['label-holder'] },
  'setup-result': { from: ['label-holder', 'feature-holder'], to: ['arbiter'] },
  'epoch-start': { from: ['arbiter'], to: ['label-holder', 'feature-holder'] },
  'partial-logits': { from: ['feature-holder'], to: ['label-holder'] },
  residual: { from: ['label-holder'], to: ['feature-holder'] },
  'gradient-shares': { from: ['label-holder'], to: ['feature-holder'] },
  embeddings: { from: ['feature-holder'], to: ['label-holder'] },
  'embedding-gradients': { from: ['label-holder'], to: ['feature-holder'] },
  'epoch-end': { from: ['label-holder', 'feature-holder'], to: ['arbiter'] },
  evaluate: { from: ['arbiter'], to: ['label-holder', 'feature-holder'] },
  'evaluate-result': { from: ['label-holder'], to: ['arbiter'] },
  score: { from: ['arbiter'], to: ['label-holder', 'feature-holder'] },
  'score-result': { from: ['label-holder'], to: ['arbiter'] },
  finish: { from: ['arbiter'], to: ['label-holder', 'feature-holder'] },
  'finish-result': { from: ['label-holder', 'feature-holder'], to: ['arbiter'] },
  error: { from: ['label-holder', 'feature-holder'], to: ['arbiter'] },
};

/** Narrows a message to one step. */
export function isStep<S extends VerticalStep>(message: VerticalMessage, step: S): message is Extract<VerticalMessage, { step: S }> {
  return message.step === step;
}

/** Sends a message towards its `to` end (through the arbiter for party-to-party steps). */
export type Send = (message: VerticalMessage) => void;

/** A stable text form of a phase, for mailbox keys, key-derivation labels and authenticated data. */
export function phaseLabel(phase: Phase): string {
  switch (phase.kind) {
    case 'train':
      return `train/${phase.epoch}`;
    case 'evaluate':
      return 'evaluate';
    case 'score':
      return `score/${phase.queryId}`;
  }
}

/** HKDF context of the sealing key of two parties (order-free). */
export function sealContext(jobId: string, a: string, b: string): string {
  const [x, y] = a < b ? [a, b] : [b, a];
  return `edufed/vertical/${jobId}/seal/${x}|${y}`;
}

/** HKDF context of the pairwise mask key of two feature holders (order-free). */
export function maskContext(jobId: string, a: string, b: string): string {
  const [x, y] = a < b ? [a, b] : [b, a];
  return `edufed/vertical/${jobId}/mask/${x}|${y}`;
}

/**
 * Authenticated data of a sealed payload: job, step, both ends and the message's place in the
 * job, so a sealed payload cannot be replayed into another batch, epoch, step or direction.
 */
export function sealAad(jobId: string, step: VerticalStep, from: string, to: string, place: string): string {
  return `edufed/vertical|${jobId}|${step}|${from}>${to}|${place}`;
}
