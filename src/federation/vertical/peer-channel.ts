/**
 * A party's end-to-end keys in a vertical job: a sealing key with every other party and, between
 * feature holders, a pairwise mask key, both from X25519 agreement on the keys the arbiter relays
 * (RFC 7748, HKDF per RFC 5869, `crypto/key-agreement.ts`), bound to the job.
 *
 * Sealing is AES-256-GCM (`crypto/aead.ts`) with authenticated data naming job, step, both ends
 * and the message's place, so the relaying arbiter can neither read nor re-route a payload.
 * Pairwise masks (Bonawitz et al., CCS 2017, section 3): feature holder a adds PRG(k_ab, phase) for
 * every b > a and subtracts it for every b < a, so the masks cancel in the label holder's sum.
 *
 * Threat note: the agreement keys are relayed by the arbiter unauthenticated; an arbiter that
 * swaps them (an active attack) could read sealed payloads. The design assumes an honest-but-curious
 * arbiter; binding the keys to the parties' TLS identities would remove that assumption.
 */
import type { KeyObject } from 'node:crypto';
import { EduFedError } from '../../core/errors.js';
import { open, seal } from '../../crypto/aead.js';
import { agreeKey, generateX25519, hkdf } from '../../crypto/key-agreement.js';
import type { DirectoryEntry, VerticalStep } from './protocol.js';
import { maskContext, sealAad, sealContext } from './protocol.js';
import { ringAdd, ringRandom, ringSub, ringZeros } from './ring.js';

/** A party's key pair for one job. */
export interface AgreementKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: Uint8Array;
}

/** A fresh X25519 key pair for one job. */
export function freshAgreementKey(): AgreementKeyPair {
  return generateX25519();
}

/** Sealing and masking keys of one party towards the others. */
export class PeerChannel {
  readonly jobId: string;
  readonly self: string;
  private readonly sealKeys = new Map<string, Uint8Array>();
  /** Pairwise mask keys with the other feature holders, with the sign this party applies. */
  private readonly maskKeys: { readonly peer: string; readonly key: Uint8Array; readonly sign: 1 | -1 }[] = [];

  /**
   * Derives the keys with every other party of `directory`; mask keys only when this party is a feature holder.
   * @throws {EduFedError} code PROTOCOL if a peer's agreement key is malformed or of low order.
   */
  constructor(jobId: string, self: string, keys: AgreementKeyPair, directory: readonly DirectoryEntry[]) {
    this.jobId = jobId;
    this.self = self;
    const me = directory.find((e) => e.id === self);
    for (const peer of directory) {
      if (peer.id === self) continue;
      this.sealKeys.set(peer.id, agreeKey(keys.privateKey, peer.agreementKey, sealContext(jobId, self, peer.id)));
      if (me?.role === 'feature-holder' && peer.role === 'feature-holder') {
        this.maskKeys.push({ peer: peer.id, key: agreeKey(keys.privateKey, peer.agreementKey, maskContext(jobId, self, peer.id)), sign: self < peer.id ? 1 : -1 });
      }
    }
  }

  private keyFor(peer: string): Uint8Array {
    const key = this.sealKeys.get(peer);
    if (key === undefined) throw new EduFedError('PROTOCOL', `party ${this.self}: no key with "${peer}" (not in this job's directory, or wiped)`);
    return key;
  }

  /** Seals `bytes` for `to`, bound to the step and the message's place (epoch, batch, ...). */
  seal(to: string, step: VerticalStep, place: string, bytes: Uint8Array): Uint8Array {
    return seal(this.keyFor(to), bytes, sealAad(this.jobId, step, this.self, to, place));
  }

  /**
   * Opens a payload `from` sealed for this party.
   * @throws {EduFedError} code PROTOCOL when it fails authentication (tampered, replayed elsewhere, or the wrong key), or `from` is unknown.
   */
  open(from: string, step: VerticalStep, place: string, sealed: Uint8Array): Uint8Array {
    const key = this.keyFor(from);
    try {
      return open(key, sealed, sealAad(this.jobId, step, from, this.self, place));
    } catch (err) {
      throw new EduFedError('PROTOCOL', `party ${this.self}: ${step} from "${from}" at ${place} failed authentication`, { cause: err });
    }
  }

  /** True when this party shares pairwise masks (a feature holder with at least one other). */
  get masks(): boolean {
    return this.maskKeys.length > 0;
  }

  /**
   * This party's combined pairwise mask for `count` ring elements of a phase: Σ_b ±PRG(k_ab, phase).
   * Summed over all feature holders the masks cancel exactly.
   */
  pairwiseMask(phase: string, count: number): Uint32Array {
    const total = ringZeros(count);
    for (const { key, sign } of this.maskKeys) {
      const stream = ringRandom(hkdf(key, 'edufed/vertical/mask-stream', phase), count);
      if (sign === 1) ringAdd(total, stream, total);
      else ringSub(total, stream, total);
    }
    return total;
  }

  /** Erases every derived key. */
  wipe(): void {
    for (const key of this.sealKeys.values()) key.fill(0);
    this.sealKeys.clear();
    for (const m of this.maskKeys) m.key.fill(0);
    this.maskKeys.length = 0;
  }
}
