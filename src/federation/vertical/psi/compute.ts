/**
 * Where PSI's group operations run. The protocol roles only ever ask for two bulk operations —
 * hash-and-blind a batch of identifiers, blind a batch of elements — through this interface, so the
 * same role code runs them in the calling thread ({@link inlineCompute}, for tests and small sets)
 * or spread over worker threads (`workerCompute`, for millions of identifiers).
 */
import { ConfigError } from '../../../core/errors.js';
import { loadPsiGroup, type PackedMessages, type PsiGroup, type PsiSecret, type PsiSuite } from './group.js';

/** An opaque handle to a secret held by a compute backend. */
export interface PsiSecretHandle {
  readonly id: number;
  readonly suite: PsiSuite;
}

/** Bulk group operations with secrets kept inside the backend. */
export interface PsiCompute {
  readonly suite: PsiSuite;
  /** Number of operations it can run at once (1 inline, the thread count for workers). */
  readonly parallelism: number;
  /** A fresh random secret, drawn and held by the backend. */
  createSecret(): Promise<PsiSecretHandle>;
  /** secret · H(m) for each packed message: n × 32 bytes. */
  hashBlind(secret: PsiSecretHandle, messages: PackedMessages): Promise<Uint8Array>;
  /** secret · e for each 32-byte element; rejects with a ValidationError naming the first bad one. */
  blind(secret: PsiSecretHandle, elements: Uint8Array): Promise<Uint8Array>;
  /** Forgets (and wipes where possible) a secret. */
  destroySecret(secret: PsiSecretHandle): void;
  /** Releases threads; the backend is unusable afterwards. */
  close(): Promise<void>;
}

/** Computes in the calling thread (each batch blocks the event loop while it runs). */
class InlineCompute implements PsiCompute {
  readonly parallelism = 1;
  private readonly secrets = new Map<number, PsiSecret>();
  private nextId = 1;

  constructor(private readonly group: PsiGroup) {}

  get suite(): PsiSuite {
    return this.group.suite;
  }

  private secret(h: PsiSecretHandle): PsiSecret {
    const s = this.secrets.get(h.id);
    if (s === undefined) throw new ConfigError('secret', `no secret #${h.id} in this compute backend (destroyed, or from another one)`);
    return s;
  }

  createSecret(): Promise<PsiSecretHandle> {
    const raw = this.group.randomSecret();
    const id = this.nextId++;
    this.secrets.set(id, this.group.importSecret(raw));
    raw.fill(0);
    return Promise.resolve({ id, suite: this.group.suite });
  }

  hashBlind(secret: PsiSecretHandle, messages: PackedMessages): Promise<Uint8Array> {
    try {
      return Promise.resolve(this.group.hashBlindBatch(this.secret(secret), messages));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  blind(secret: PsiSecretHandle, elements: Uint8Array): Promise<Uint8Array> {
    try {
      return Promise.resolve(this.group.blindBatch(this.secret(secret), elements));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  destroySecret(secret: PsiSecretHandle): void {
    this.secrets.get(secret.id)?.destroy();
    this.secrets.delete(secret.id);
  }

  close(): Promise<void> {
    for (const s of this.secrets.values()) s.destroy();
    this.secrets.clear();
    return Promise.resolve();
  }
}

/** A backend that computes in the calling thread. @throws ConfigError for an unknown suite. */
export async function inlineCompute(suite: PsiSuite): Promise<PsiCompute> {
  return new InlineCompute(await loadPsiGroup(suite));
}
