/**
 * FedPer. Arivazhagan, Aggarwal, Singh, Choudhary, "Federated Learning with Personalization
 * Layers", arXiv:1912.00818, 2019.
 */
import { ConfigError } from '../core/errors.js';
import type { ParamBlock } from '../models/model.js';
import { weightedAverage } from './aggregate.js';
import { FedAvg, type FedAvgOptions } from './fedavg.js';
import type { ClientUpdate, TrainInstructions } from './strategy.js';

/** FedPer hyper-parameters: FedAvg's plus the blocks kept on the participants. */
export interface FedPerOptions extends FedAvgOptions {
  /** Names of layout blocks that stay local (typically the last layers); at least one, not all. */
  readonly personalBlocks: readonly string[];
}

/**
 * FedPer: base layers are federated with FedAvg, personalisation layers never leave the
 * participants. Instructions name the personal blocks; aggregation averages only the shared
 * coordinates, and the personal blocks of the returned global keep the previous global values
 * (whatever participants put there is ignored).
 */
export class FedPer extends FedAvg {
  override readonly name: string = 'FedPer';
  readonly personalBlocks: readonly string[];
  /** Half-open [start, end) coordinate ranges of the personal blocks, sorted and merged. */
  private readonly personalRanges: readonly (readonly [number, number])[];
  private readonly layoutLength: number;

  /**
   * @param layout the model's parameter layout (`Model.layout`).
   * @throws ConfigError if the layout is malformed, or `personalBlocks` is empty, has duplicates or
   *   unknown names, or covers every block (nothing left to share).
   */
  constructor(layout: readonly ParamBlock[], options: FedPerOptions) {
    super(options);
    const byName = new Map<string, ParamBlock>();
    let layoutLength = 0;
    for (const b of layout) {
      if (byName.has(b.name)) throw new ConfigError('layout', `block "${b.name}" appears twice`);
      if (!Number.isInteger(b.offset) || !Number.isInteger(b.length) || b.offset < 0 || b.length < 0) {
        throw new ConfigError('layout', `block "${b.name}" has offset ${b.offset} and length ${b.length}`);
      }
      byName.set(b.name, b);
      layoutLength = Math.max(layoutLength, b.offset + b.length);
    }
    const names = options.personalBlocks;
    if (names.length === 0) {
      throw new ConfigError('personalBlocks', 'must name at least one layout block');
    }
    const personal = new Set<string>();
    const ranges: [number, number][] = [];
    for (const name of names) {
      const block = byName.get(name);
      if (block === undefined) {
        throw new ConfigError('personalBlocks', `unknown block ${JSON.stringify(name)}; the layout has: ${[...byName.keys()].join(', ')}`);
      }
      if (personal.has(block.name)) throw new ConfigError('personalBlocks', `block "${block.name}" listed twice`);
      personal.add(block.name);
      ranges.push([block.offset, block.offset + block.length]);
    }
    if (personal.size === byName.size) throw new ConfigError('personalBlocks', 'covers every layout block; nothing would be federated');
    ranges.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last !== undefined && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    this.personalBlocks = [...personal];
    this.personalRanges = merged;
    this.layoutLength = layoutLength;
  }

  protected override trainInstructions(round: number): TrainInstructions {
    return { ...super.trainInstructions(round), personalBlocks: this.personalBlocks };
  }

  /** @throws ConfigError if the global model is shorter than the layout it was configured with. */
  protected override combine(_round: number, global: Float32Array, updates: readonly ClientUpdate[]): Float32Array {
    if (global.length < this.layoutLength) {
      throw new ConfigError('layout', `spans ${this.layoutLength} parameters but the global model has ${global.length}`);
    }
    const out = global.slice();
    // Shared coordinates: the complement of the personal ranges, averaged range by range in place.
    let start = 0;
    const averageRange = (a: number, b: number): void => {
      if (b <= a) return;
      weightedAverage(updates.map((u) => ({ params: u.params.subarray(a, b), weight: u.numExamples })), out.subarray(a, b));
    };
    for (const [a, b] of this.personalRanges) {
      averageRange(start, a);
      start = b;
    }
    averageRange(start, global.length);
    return out;
  }
}
