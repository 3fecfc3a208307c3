/**
 * The label holder (FATE's "guest"): the platform with the labels, its own features, the bias,
 * and presence indicators saying which feature holder lacks which learner (from alignment). Per
 * batch it adds the feature holders' partial logits to its own, computes the residuals
 * d = σ(z) − y and the loss, updates its own weights, and sends each feature holder what it needs
 * for its gradient: d itself in `plain-lr` (revealing the labels), or in `secure-lr` the masked
 * d' = enc(d) − s with its gradient share E_k[B]ᵀenc(d) + t_C (see `gradient-shares.ts`).
 *
 * What it learns in `secure-lr`: Σ_k z_k per learner (the sum only, when there are two or more
 * feature holders), which the exact sigmoid needs; never X_k (it holds only E_k = X_k − R_k) nor
 * any feature holder's weights or gradient. In `split-nn` it learns each feature holder's
 * embeddings, a compressed view of its features.
 */
import { ConfigError, DataError, ValidationError } from '../../core/errors.js';
import { sigmoid } from '../../core/math.js';
import { summarize } from '../../core/metrics.js';
import { hashString, seededRng } from '../../core/rng.js';
import type { Schema } from '../../data/schema.js';
import type { RawTable } from '../../data/table.js';
import { DenseNet } from './dense-net.js';
import { labelHolderShares } from './gradient-shares.js';
import { gradientSum, partialLogits, residuals, sgdStep } from './lr-math.js';
import { alignedFeatures, appendColumns, encodePartyTable, type PartyFeatures } from './party-features.js';
import type { EpochStart, LabelHolderMaterial, Phase, Presence, Score, Send, Setup } from './protocol.js';
import { RingMatrix } from './ring-kernel.js';
import { decodeFixed, encodeFixed, ringAdd, ringLength, ringRandom, ringSlice, ringZeros, RING_WORDS } from './ring.js';
import { ARBITER, dataKey, place, VerticalParty } from './vertical-party.js';
import { bytesToFloat64, bytesToWords, float64ToBytes, wordsToBytes } from './wire-arrays.js';

/** A platform holding the labels (and features). One object per job. */
export class LabelHolder extends VerticalParty<'label-holder'> {
  /** The party's encoded table (its own standardisation) with its labels. */
  readonly features: PartyFeatures;
  /** Aligned own features plus one presence column per feature holder: positions × dim. */
  private x: Float32Array = new Float32Array(0);
  private dim = 0;
  /** Labels at the aligned positions. */
  private y: Float32Array = new Float32Array(0);
  /** Weights (dim), then the bias. */
  private w: Float32Array = new Float32Array(1);
  private readonly masked = new Map<string, RingMatrix>();
  private bottom: DenseNet | undefined;
  private top: DenseNet | undefined;

  /**
   * Encodes the party's table with its own standardisation.
   * @throws {DataError} on cells that do not fit the schema, a missing id column, or no label column.
   * @throws {ConfigError} on a label that is not binary.
   */
  constructor(id: string, raw: RawTable, schema: Schema, idColumn: string, send: Send) {
    super({ role: 'label-holder', id }, send);
    this.features = encodePartyTable(id, raw, schema, idColumn);
    if (!schema.columns.some((c) => c.type === 'label')) throw new DataError({ file: raw.source }, `label holder ${id}: the schema has no label column`);
  }

  /** The label holder's weights (own features, then presence indicators) and the bias (a copy). */
  weights(): { readonly weights: Float32Array; readonly bias: number } {
    return { weights: this.w.slice(0, this.dim), bias: this.w[this.dim] ?? 0 };
  }

  /** Own features plus presence columns at the positions `rows` (−1: a learner new to this party, imputed). */
  private design(rows: Int32Array, presence: readonly Presence[] | undefined): Float32Array {
    const { featureHolders } = this.job;
    const columns = featureHolders.map((party) => {
      const p = presence?.find((e) => e.party === party)?.present;
      if (p === undefined || p.length !== rows.length) {
        throw new ValidationError('arbiter', `label holder ${this.id}: no presence of ${rows.length} positions for feature holder "${party}"`);
      }
      return p;
    });
    return appendColumns(alignedFeatures(this.features, rows), rows.length, this.features.d, columns);
  }

  protected override async setup(message: Setup): Promise<number> {
    const { config, channel, rows, nTrain, featureHolders, schedule } = this.job;
    this.dim = this.features.d + featureHolders.length;
    this.x = this.design(rows, message.payload.presence);
    this.y = new Float32Array(rows.length);
    rows.forEach((r, i) => {
      const label = r >= 0 ? this.features.labels[r] : undefined;
      if (label === undefined || label < 0) throw new DataError({ file: `party ${this.id}` }, `aligned position ${i} has no labelled row of the label holder`);
      this.y[i] = label;
    });
    this.w = new Float32Array(this.dim + 1);
    if (config.mode === 'split-nn') {
      const shape = config.splitNn;
      if (shape === undefined) throw new ConfigError('splitNn', 'missing in split-nn mode');
      this.bottom = new DenseNet([this.dim, ...shape.bottomHidden, shape.embedding], seededRng(hashString(`${config.seed}|bottom|${this.id}`)));
      this.top = new DenseNet([shape.embedding * (featureHolders.length + 1), ...shape.topHidden, 1], seededRng(hashString(`${config.seed}|top|${this.id}`)));
    }
    if (config.mode === 'secure-lr') {
      for (const party of featureHolders) {
        const m = await this.take(dataKey('masked-features', party, 'setup', 0));
        if (m.step !== 'masked-features' || m.payload.rows !== nTrain || !Number.isSafeInteger(m.payload.cols) || m.payload.cols < 1) {
          throw new ValidationError(party, `masked-features must cover the ${nTrain} training positions`);
        }
        const words = bytesToWords(channel.open(party, 'masked-features', place('setup', 0), m.payload.sealed), `masked features of ${party}`);
        if (ringLength(words) !== nTrain * m.payload.cols) throw new ValidationError(party, `masked-features hold ${ringLength(words)} elements, not ${nTrain} × ${m.payload.cols}`);
        const e = new RingMatrix(nTrain, m.payload.cols, schedule.batchSize);
        e.words.set(words);
        this.masked.set(party, e);
      }
    }
    return this.dim;
  }

  /** Σ_k z_k for `count` positions of a phase and batch: plain values, or the sealed ring sum decoded. */
  private async sumLogits(phase: Phase, batch: number, count: number): Promise<Float64Array> {
    const { config, channel, featureHolders } = this.job;
    const plain = config.mode === 'plain-lr';
    const sum = new Float64Array(plain ? count : 0);
    const ring = ringZeros(plain ? 0 : count);
    for (const party of featureHolders) {
      const m = await this.take(dataKey('partial-logits', party, phase, batch));
      if (m.step !== 'partial-logits') throw new ValidationError(party, 'expected partial-logits');
      const data = m.payload.data;
      if (plain) {
        if (data.encoding !== 'plain' || data.values.length !== count) throw new ValidationError(party, `partial-logits must be ${count} plain values`);
        for (let i = 0; i < count; i++) sum[i] = sum[i]! + data.values[i]!;
      } else {
        if (data.encoding !== 'sealed') throw new ValidationError(party, 'partial-logits must be sealed in secure-lr');
        const words = bytesToWords(channel.open(party, 'partial-logits', place(phase, batch), data.sealed));
        if (ringLength(words) !== count) throw new ValidationError(party, `partial-logits hold ${ringLength(words)} elements, not ${count}`);
        ringAdd(ring, words, ring);
      }
    }
    return plain ? sum : decodeFixed(ring, config.fracBits);
  }

  /** The split network's top input for a batch: [own embedding, each feature holder's], row by row. */
  private async topInput(phase: Phase, batch: number, own: Float64Array, rows: number): Promise<Float64Array> {
    const { channel, featureHolders } = this.job;
    const e = this.bottom?.outputDim ?? 0;
    const width = e * (featureHolders.length + 1);
    const input = new Float64Array(rows * width);
    for (let i = 0; i < rows; i++) input.set(own.subarray(i * e, i * e + e), i * width);
    for (const [k, party] of featureHolders.entries()) {
      const m = await this.take(dataKey('embeddings', party, phase, batch));
      if (m.step !== 'embeddings') throw new ValidationError(party, 'expected embeddings');
      const h = bytesToFloat64(channel.open(party, 'embeddings', place(phase, batch), m.payload.sealed), `embeddings of ${party}`);
      if (h.length !== rows * e) throw new ValidationError(party, `embeddings hold ${h.length} values, not ${rows} × ${e}`);
      for (let i = 0; i < rows; i++) input.set(h.subarray(i * e, i * e + e), i * width + (k + 1) * e);
    }
    return input;
  }

  protected override async epoch(epoch: number, material: EpochStart['payload']['material']): Promise<number> {
    const { config, schedule, nTrain } = this.job;
    const order = schedule.nextEpoch();
    if (schedule.epoch !== epoch) throw new ValidationError('arbiter', `label holder ${this.id}: epoch ${epoch} out of order (expected ${schedule.epoch})`);
    let dealt: { readonly s: Uint32Array; readonly material: LabelHolderMaterial } | undefined;
    if (config.mode === 'secure-lr') {
      if (material?.role !== 'label-holder') throw new ValidationError('arbiter', `label holder ${this.id}: epoch ${epoch} lacks the dealer's material`);
      dealt = { s: ringRandom(material.sSeed, nTrain), material };
    }
    const phase: Phase = { kind: 'train', epoch };
    let lossSum = 0;
    for (let j = 0; j < schedule.batches; j++) {
      const { start, end } = schedule.range(j);
      lossSum += config.mode === 'split-nn' ? await this.splitBatch(phase, j, order, start, end) : await this.lrBatch(phase, j, order, start, end, dealt);
    }
    return lossSum / nTrain;
  }

  private async lrBatch(
    phase: Phase & { readonly kind: 'train' },
    j: number,
    order: Uint32Array,
    start: number,
    end: number,
    dealt: { readonly s: Uint32Array; readonly material: LabelHolderMaterial } | undefined,
  ): Promise<number> {
    const { config, channel, featureHolders } = this.job;
    const b = end - start;
    const others = await this.sumLogits(phase, j, b);
    const own = partialLogits(this.x, this.dim, this.w, order, start, end);
    const bias = this.w[this.dim]!;
    const y = new Float32Array(b);
    for (let i = 0; i < b; i++) {
      own[i] = bias + own[i]! + others[i]!;
      y[i] = this.y[order[start + i]!]!;
    }
    const { residual, lossSum } = residuals(own, y);
    if (dealt === undefined) {
      for (const party of featureHolders) {
        this.send({ step: 'residual', from: this.endpoint, to: { role: 'feature-holder', id: party }, payload: { jobId: config.jobId, epoch: phase.epoch, batch: j, residual } });
      }
    } else {
      const encoded = encodeFixed(residual, config.fracBits, undefined, 'residual');
      const batch = order.subarray(start, end);
      for (const party of featureHolders) {
        const e = this.masked.get(party);
        const tC = dealt.material.shares.find((m) => m.party === party)?.tC;
        if (e === undefined || tC === undefined || ringLength(tC) !== this.job.schedule.batches * e.cols) {
          throw new ValidationError('arbiter', `label holder ${this.id}: no dealer share for "${party}" in epoch ${phase.epoch}`);
        }
        const { maskedResidual, share } = labelHolderShares(e, batch, encoded, ringSlice(dealt.s, start, end), ringSlice(tC, j * e.cols, (j + 1) * e.cols));
        const payload = new Uint32Array((b + e.cols) * RING_WORDS);
        payload.set(maskedResidual);
        payload.set(share, b * RING_WORDS);
        this.send({
          step: 'gradient-shares',
          from: this.endpoint,
          to: { role: 'feature-holder', id: party },
          payload: { jobId: config.jobId, epoch: phase.epoch, batch: j, sealed: channel.seal(party, 'gradient-shares', place(phase, j), wordsToBytes(payload)) },
        });
      }
    }
    const g = gradientSum(this.x, this.dim, order, start, end, residual);
    let gBias = 0;
    for (let i = 0; i < b; i++) gBias += residual[i]!;
    sgdStep(this.w, g, b, config.learningRate, config.l2, 0, this.dim);
    sgdStep(this.w, [gBias], b, config.learningRate, 0, this.dim, 1);
    return lossSum;
  }

  private async splitBatch(phase: Phase & { readonly kind: 'train' }, j: number, order: Uint32Array, start: number, end: number): Promise<number> {
    const { config, channel, featureHolders } = this.job;
    const bottom = this.bottom;
    const top = this.top;
    if (bottom === undefined || top === undefined) throw new ConfigError('mode', 'split-nn state missing');
    const b = end - start;
    const xb = new Float32Array(b * this.dim);
    const y = new Float32Array(b);
    for (let i = 0; i < b; i++) {
      const pos = order[start + i]!;
      xb.set(this.x.subarray(pos * this.dim, (pos + 1) * this.dim), i * this.dim);
      y[i] = this.y[pos]!;
    }
    const input = await this.topInput(phase, j, bottom.forward(xb, b), b);
    const logits = top.forward(input, b);
    const { residual, lossSum } = residuals(logits, y);
    for (let i = 0; i < b; i++) residual[i] = residual[i]! / b;
    const dInput = top.backward(residual, config.learningRate);
    const e = bottom.outputDim;
    const width = e * (featureHolders.length + 1);
    const part = (k: number): Float64Array => {
      const out = new Float64Array(b * e);
      for (let i = 0; i < b; i++) out.set(dInput.subarray(i * width + k * e, i * width + (k + 1) * e), i * e);
      return out;
    };
    for (const [k, party] of featureHolders.entries()) {
      this.send({
        step: 'embedding-gradients',
        from: this.endpoint,
        to: { role: 'feature-holder', id: party },
        payload: { jobId: config.jobId, epoch: phase.epoch, batch: j, sealed: channel.seal(party, 'embedding-gradients', place(phase, j), float64ToBytes(part(k + 1))) },
      });
    }
    bottom.backward(part(0), config.learningRate);
    return lossSum;
  }

  /** P(y = 1) at the positions of `x` (rows × dim), joining the feature holders' contributions of `phase`. */
  private async predict(phase: Phase, x: Float32Array, rows: number): Promise<Float64Array> {
    const { config } = this.job;
    const probs = new Float64Array(rows);
    if (config.mode === 'split-nn') {
      if (this.bottom === undefined || this.top === undefined) throw new ConfigError('mode', 'split-nn state missing');
      const logits = this.top.forward(await this.topInput(phase, 0, this.bottom.forward(x, rows), rows), rows);
      for (let i = 0; i < rows; i++) probs[i] = sigmoid(logits[i]!);
      return probs;
    }
    const others = await this.sumLogits(phase, 0, rows);
    const all = Uint32Array.from({ length: rows }, (_, i) => i);
    const own = partialLogits(x, this.dim, this.w, all, 0, rows);
    const bias = this.w[this.dim]!;
    for (let i = 0; i < rows; i++) probs[i] = sigmoid(bias + own[i]! + others[i]!);
    return probs;
  }

  protected override async evaluate(): Promise<void> {
    const { config, rows, nTrain } = this.job;
    const nTest = rows.length - nTrain;
    const probs = await this.predict({ kind: 'evaluate' }, this.x.subarray(nTrain * this.dim), nTest);
    const summary = summarize(Float32Array.from(probs), this.y.subarray(nTrain), nTest, 2);
    this.send({ step: 'evaluate-result', from: this.endpoint, to: ARBITER, payload: { jobId: config.jobId, summary } });
  }

  protected override async score(queryId: string, rows: Int32Array, presence: Score['payload']['presence']): Promise<void> {
    const { config } = this.job;
    const probabilities = await this.predict({ kind: 'score', queryId }, this.design(rows, presence), rows.length);
    this.send({ step: 'score-result', from: this.endpoint, to: ARBITER, payload: { jobId: config.jobId, queryId, probabilities } });
  }

  protected override wipeState(): void {
    for (const e of this.masked.values()) e.wipe();
    this.masked.clear();
    this.x.fill(0);
  }
}
