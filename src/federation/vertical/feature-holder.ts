/**
 * A feature holder (FATE's "host"): a platform with features of the learners but no labels. It
 * keeps its features and its part of the model; per batch it sends its partial logits (or, in
 * `split-nn`, its embeddings) to the label holder and updates its weights from what comes back.
 *
 * `secure-lr` (see `gradient-shares.ts`): at setup it sends the label holder E = enc(X) − R, its
 * training features padded by the dealer's R; per batch its partial logits go out as fixed-point
 * ring elements, pairwise masked when there are other feature holders, and sealed; what comes back
 * is d' = enc(d) − s and the label holder's gradient share, from which it computes exactly its own
 * gradient X[B]ᵀd and nothing else: the residuals (hence the labels) stay hidden behind s.
 */
import { ConfigError, ValidationError } from '../../core/errors.js';
import { cryptoRng, hashString, seededRng, type Rng } from '../../core/rng.js';
import type { RawTable } from '../../data/table.js';
import type { Schema } from '../../data/schema.js';
import { DenseNet } from './dense-net.js';
import { featureHolderGradient, maskFeatureMatrix } from './gradient-shares.js';
import { gradientSum, partialLogits, sgdStep } from './lr-math.js';
import { alignedFeatures, encodePartyTable, type PartyFeatures } from './party-features.js';
import type { EpochStart, PartialLogits, Phase, Score, Send, Setup } from './protocol.js';
import { phaseLabel } from './protocol.js';
import { RingMatrix } from './ring-kernel.js';
import { decodeFixed, encodeFixed, productCapacity, ringAdd, ringLength, ringRandom, ringSlice, RING_WORDS } from './ring.js';
import { dataKey, place, VerticalParty } from './vertical-party.js';
import { bytesToFloat64, bytesToWords, float64ToBytes, wordsToBytes } from './wire-arrays.js';

/** Options of a {@link FeatureHolder}. */
export interface FeatureHolderOptions {
  /** Source of the Gaussian noise on embeddings (`split-nn`); the OS CSPRNG by default. */
  readonly noiseRng?: Rng;
}

/** A platform holding features only. One object per job. */
export class FeatureHolder extends VerticalParty<'feature-holder'> {
  /** The party's encoded table (its own standardisation). */
  readonly features: PartyFeatures;
  private readonly noiseRng: Rng;
  /** Aligned features, positions × d. */
  private x: Float32Array = new Float32Array(0);
  private w: Float32Array = new Float32Array(0);
  private r: RingMatrix | undefined;
  private bottom: DenseNet | undefined;
  /** Evaluation and query phases already answered. */
  private readonly answered = new Set<string>();

  /**
   * Encodes the party's table with its own standardisation (`party-features.ts`).
   * @throws {DataError} on cells that do not fit the schema or a missing id column.
   */
  constructor(id: string, raw: RawTable, schema: Schema, idColumn: string, send: Send, options: FeatureHolderOptions = {}) {
    super({ role: 'feature-holder', id }, send);
    this.features = encodePartyTable(id, raw, schema, idColumn);
    this.noiseRng = options.noiseRng ?? cryptoRng();
  }

  /** This party's logistic-regression weights (a copy): its block of the joint model. */
  weights(): Float32Array {
    return this.w.slice();
  }

  protected override async setup(message: Setup): Promise<number> {
    const { config, channel, rows, nTrain, schedule, labelHolder } = this.job;
    const d = this.features.d;
    this.x = alignedFeatures(this.features, rows);
    this.w = new Float32Array(d);
    if (config.mode === 'split-nn') {
      const shape = config.splitNn;
      if (shape === undefined) throw new ConfigError('splitNn', 'missing in split-nn mode');
      this.bottom = new DenseNet([d, ...shape.bottomHidden, shape.embedding], seededRng(hashString(`${config.seed}|bottom|${this.id}`)));
    }
    if (config.mode === 'secure-lr') {
      const seed = message.payload.maskSeed;
      if (seed === undefined) throw new ValidationError('arbiter', `setup for ${this.id}: secure-lr needs the dealer's mask seed`);
      const xTrain = this.x.subarray(0, nTrain * d);
      this.checkCapacity(xTrain, schedule.batchSize, config.fracBits);
      const r = new RingMatrix(nTrain, d, schedule.batchSize);
      r.words.set(ringRandom(seed, nTrain * d));
      seed.fill(0);
      const masked = maskFeatureMatrix(encodeFixed(Float64Array.from(xTrain), config.fracBits, undefined, `party ${this.id} feature`), r.words);
      this.r = r;
      this.send({
        step: 'masked-features',
        from: this.endpoint,
        to: { role: 'label-holder', id: labelHolder },
        payload: { jobId: config.jobId, rows: nTrain, cols: d, sealed: channel.seal(labelHolder, 'masked-features', place('setup', 0), wordsToBytes(masked)) },
      });
    }
    return d;
  }

  /**
   * A batch's gradient sum Σ|x·d| must fit the ring: b·max|x| (|d| < 1) below 2^(63 − 2f), with a
   * factor 2 to spare for rounding.
   */
  private checkCapacity(x: Float32Array, batch: number, fracBits: number): void {
    let max = 0;
    for (const v of x) if (Math.abs(v) > max) max = Math.abs(v);
    const capacity = productCapacity(fracBits) / 2;
    if (batch * max >= capacity) {
      throw new ConfigError(
        'fracBits',
        `party ${this.id}: features reach |x| = ${max.toPrecision(4)}, so a batch of ${batch} can sum to ${(batch * max).toPrecision(4)}, beyond the ring's ${capacity} at ${fracBits} fraction bits; lower fracBits or batchSize`,
      );
    }
  }

  protected override async epoch(epoch: number, material: EpochStart['payload']['material']): Promise<undefined> {
    const { config, channel, schedule, labelHolder, nTrain } = this.job;
    const order = schedule.nextEpoch();
    if (schedule.epoch !== epoch) throw new ValidationError('arbiter', `party ${this.id}: epoch ${epoch} out of order (expected ${schedule.epoch})`);
    const d = this.features.d;
    const phase = { kind: 'train', epoch } as const;
    let tK: Uint32Array | undefined;
    let mask: Uint32Array | undefined;
    if (config.mode === 'secure-lr') {
      if (material?.role !== 'feature-holder') throw new ValidationError('arbiter', `party ${this.id}: epoch ${epoch} lacks the dealer's material`);
      tK = ringRandom(material.tSeed, schedule.batches * d);
      mask = channel.masks ? channel.pairwiseMask(phaseLabel(phase), nTrain) : undefined;
    }
    for (let j = 0; j < schedule.batches; j++) {
      const { start, end } = schedule.range(j);
      if (config.mode === 'split-nn') {
        await this.splitBatch(phase, j, order, start, end);
        continue;
      }
      const z = partialLogits(this.x, d, this.w, order, start, end);
      this.sendLogits(phase, j, z, mask === undefined ? undefined : ringSlice(mask, start, end));
      let gSum: Float64Array;
      if (config.mode === 'plain-lr') {
        const reply = await this.take(dataKey('residual', labelHolder, phase, j));
        if (reply.step !== 'residual' || reply.payload.residual.length !== end - start) throw badReply(this.id, 'residual', epoch, j);
        gSum = gradientSum(this.x, d, order, start, end, reply.payload.residual);
      } else {
        const reply = await this.take(dataKey('gradient-shares', labelHolder, phase, j));
        if (reply.step !== 'gradient-shares' || this.r === undefined || tK === undefined) throw badReply(this.id, 'gradient-shares', epoch, j);
        const words = bytesToWords(channel.open(labelHolder, 'gradient-shares', place(phase, j), reply.payload.sealed));
        const b = end - start;
        if (ringLength(words) !== b + d) throw badReply(this.id, 'gradient-shares', epoch, j);
        const g = featureHolderGradient(this.r, order.subarray(start, end), words.subarray(0, b * RING_WORDS), ringSlice(tK, j * d, (j + 1) * d), words.subarray(b * RING_WORDS));
        gSum = decodeFixed(g, 2 * config.fracBits);
      }
      sgdStep(this.w, gSum, end - start, config.learningRate, config.l2);
    }
    return undefined;
  }

  private async splitBatch(phase: Phase & { readonly kind: 'train' }, j: number, order: Uint32Array, start: number, end: number): Promise<void> {
    const { config, channel, labelHolder } = this.job;
    const bottom = this.bottom;
    if (bottom === undefined) throw new ConfigError('mode', `party ${this.id}: no bottom model outside split-nn`);
    const d = this.features.d;
    const rows = end - start;
    const xb = new Float32Array(rows * d);
    for (let i = start; i < end; i++) xb.set(this.x.subarray(order[i]! * d, order[i]! * d + d), (i - start) * d);
    this.sendEmbeddings(phase, j, bottom.forward(xb, rows));
    const reply = await this.take(dataKey('embedding-gradients', labelHolder, phase, j));
    if (reply.step !== 'embedding-gradients') throw badReply(this.id, 'embedding-gradients', phase.epoch, j);
    const grad = bytesToFloat64(channel.open(labelHolder, 'embedding-gradients', place(phase, j), reply.payload.sealed));
    if (grad.length !== rows * bottom.outputDim) throw badReply(this.id, 'embedding-gradients', phase.epoch, j);
    bottom.backward(grad, config.learningRate);
  }

  private sendLogits(phase: Phase, batch: number, z: Float64Array, mask: Uint32Array | undefined): void {
    const { config, channel, labelHolder } = this.job;
    let data: PartialLogits['payload']['data'];
    if (config.mode === 'plain-lr') {
      data = { encoding: 'plain', values: z };
    } else {
      const enc = encodeFixed(z, config.fracBits, undefined, `party ${this.id} partial logit`);
      if (mask !== undefined) ringAdd(enc, mask, enc);
      data = { encoding: 'sealed', sealed: channel.seal(labelHolder, 'partial-logits', place(phase, batch), wordsToBytes(enc)) };
    }
    this.send({ step: 'partial-logits', from: this.endpoint, to: { role: 'label-holder', id: labelHolder }, payload: { jobId: config.jobId, phase, batch, data } });
  }

  private sendEmbeddings(phase: Phase, batch: number, h: Float64Array): void {
    const { config, channel, labelHolder } = this.job;
    const sigma = config.splitNn?.noiseStd ?? 0;
    const sent = sigma > 0 ? h.map((v) => v + sigma * this.noiseRng.normal()) : h;
    this.send({
      step: 'embeddings',
      from: this.endpoint,
      to: { role: 'label-holder', id: labelHolder },
      payload: { jobId: config.jobId, phase, batch, sealed: channel.seal(labelHolder, 'embeddings', place(phase, batch), float64ToBytes(sent)) },
    });
  }

  /**
   * Sends the contribution for aligned positions of `x` (rows × d) in one message. A phase is
   * answered once: two answers under the same pairwise mask would hand the label holder the
   * difference of this party's own logits.
   */
  private contribute(phase: Phase, x: Float32Array, rows: number): void {
    const { config, channel } = this.job;
    const label = phaseLabel(phase);
    if (this.answered.has(label)) throw new ValidationError('arbiter', `party ${this.id}: ${label} was already answered`);
    this.answered.add(label);
    if (config.mode === 'split-nn') {
      if (this.bottom === undefined) throw new ConfigError('mode', `party ${this.id}: no bottom model`);
      this.sendEmbeddings(phase, 0, this.bottom.forward(x, rows));
      return;
    }
    const all = Uint32Array.from({ length: rows }, (_, i) => i);
    const z = partialLogits(x, this.features.d, this.w, all, 0, rows);
    const mask = config.mode === 'secure-lr' && channel.masks ? channel.pairwiseMask(label, rows) : undefined;
    this.sendLogits(phase, 0, z, mask);
  }

  protected override async evaluate(): Promise<void> {
    const { rows, nTrain } = this.job;
    const d = this.features.d;
    this.contribute({ kind: 'evaluate' }, this.x.subarray(nTrain * d), rows.length - nTrain);
  }

  protected override async score(queryId: string, rows: Int32Array, _presence: Score['payload']['presence']): Promise<void> {
    this.contribute({ kind: 'score', queryId }, alignedFeatures(this.features, rows), rows.length);
  }

  protected override wipeState(): void {
    this.r?.wipe();
    this.r = undefined;
    this.x.fill(0);
  }
}

function badReply(id: string, step: string, epoch: number, batch: number): ValidationError {
  return new ValidationError(undefined, `party ${id}: malformed ${step} for epoch ${epoch}, batch ${batch}`);
}
