/**
 * A {@link PsiCompute} over worker threads: each worker loads the group once and receives every
 * secret; batches go to the least-busy worker (two in flight per worker, so none idles between
 * batches). Both PSI roles of one process may share one backend. Idle workers are unref'd, so a
 * forgotten `close()` does not keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ConfigError, EduFedError, ValidationError, type ErrorInfo } from '../../../core/errors.js';
import { isRecord } from '../../../core/validate.js';
import type { PsiCompute, PsiSecretHandle } from './compute.js';
import { loadPsiGroup, type PackedMessages, type PsiGroup, type PsiSuite } from './group.js';
import type { PsiWorkerData, PsiWorkerReply, PsiWorkerRequest } from './psi-worker.js';

/** Options of {@link workerCompute}. */
export interface WorkerComputeOptions {
  readonly suite: PsiSuite;
  /** Worker threads; default `os.availableParallelism()`. */
  readonly threads?: number;
}

const IN_FLIGHT_PER_WORKER = 2;

interface Task {
  readonly request: PsiWorkerRequest & { readonly task: number };
  readonly transfer: ArrayBuffer[];
  readonly resolve: (out: Uint8Array) => void;
  readonly reject: (err: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Task>;
}

function errorFrom(info: ErrorInfo & { readonly name?: string }): EduFedError {
  return info.code === 'VALIDATION' ? new ValidationError(undefined, info.message) : new EduFedError(info.code, info.message);
}

function isReply(v: unknown): v is PsiWorkerReply {
  return isRecord(v) && typeof v['type'] === 'string';
}

/** Owned copies of views, so their buffers can be transferred without touching the caller's memory. */
function ownedBytes(view: Uint8Array): Uint8Array<ArrayBuffer> {
  return view.slice();
}
function ownedWords(view: Uint32Array): Uint32Array<ArrayBuffer> {
  return view.slice();
}

class WorkerCompute implements PsiCompute {
  private readonly queue: Task[] = [];
  private nextTask = 1;
  private nextSecret = 1;
  private closed: EduFedError | undefined;

  constructor(
    readonly suite: PsiSuite,
    private readonly group: PsiGroup,
    private readonly slots: readonly Slot[],
  ) {
    for (const slot of slots) {
      slot.worker.on('message', (m: unknown) => this.onReply(slot, m));
      slot.worker.on('error', (err) => this.fail(new EduFedError('INTERNAL', `PSI worker failed: ${err.message}`, { cause: err })));
      slot.worker.on('exit', (code) => {
        if (this.closed === undefined) this.fail(new EduFedError('INTERNAL', `PSI worker exited with code ${code}`));
      });
      slot.worker.unref();
    }
  }

  get parallelism(): number {
    return this.slots.length;
  }

  private onReply(slot: Slot, m: unknown): void {
    if (!isReply(m) || (m.type !== 'done' && m.type !== 'error')) return;
    const task = slot.pending.get(m.task);
    if (task === undefined) return;
    slot.pending.delete(m.task);
    if (m.type === 'done') task.resolve(m.out);
    else task.reject(errorFrom(m.error));
    if (slot.pending.size === 0) slot.worker.unref();
    this.pump();
  }

  private fail(err: EduFedError): void {
    if (this.closed !== undefined) return;
    this.closed = err;
    for (const slot of this.slots) {
      for (const t of slot.pending.values()) t.reject(err);
      slot.pending.clear();
      void slot.worker.terminate();
    }
    for (const t of this.queue.splice(0)) t.reject(err);
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let best: Slot | undefined;
      for (const s of this.slots) if (s.pending.size < IN_FLIGHT_PER_WORKER && (best === undefined || s.pending.size < best.pending.size)) best = s;
      if (best === undefined) return;
      const task = this.queue.shift() as Task;
      best.pending.set(task.request.task, task);
      best.worker.ref();
      best.worker.postMessage(task.request, task.transfer);
    }
  }

  private submit(make: (task: number) => { request: Task['request']; transfer: ArrayBuffer[] }): Promise<Uint8Array> {
    if (this.closed !== undefined) return Promise.reject(this.closed);
    return new Promise<Uint8Array>((resolve, reject) => {
      const { request, transfer } = make(this.nextTask++);
      this.queue.push({ request, transfer, resolve, reject });
      this.pump();
    });
  }

  createSecret(): Promise<PsiSecretHandle> {
    if (this.closed !== undefined) return Promise.reject(this.closed);
    const raw = this.group.randomSecret();
    const id = this.nextSecret++;
    // Each worker gets its own structured-clone copy; ours is wiped at once.
    for (const s of this.slots) s.worker.postMessage({ type: 'secret', id, raw } satisfies PsiWorkerRequest);
    raw.fill(0);
    return Promise.resolve({ id, suite: this.suite });
  }

  private mismatch(secret: PsiSecretHandle): ConfigError | undefined {
    return secret.suite === this.suite ? undefined : new ConfigError('secret', `a ${secret.suite} secret given to a ${this.suite} backend`);
  }

  hashBlind(secret: PsiSecretHandle, messages: PackedMessages): Promise<Uint8Array> {
    const wrong = this.mismatch(secret);
    if (wrong !== undefined) return Promise.reject(wrong);
    const bytes = ownedBytes(messages.bytes);
    const offsets = ownedWords(messages.offsets);
    return this.submit((task) => ({ request: { type: 'hash-blind', task, id: secret.id, bytes, offsets }, transfer: [bytes.buffer, offsets.buffer] }));
  }

  blind(secret: PsiSecretHandle, elements: Uint8Array): Promise<Uint8Array> {
    const wrong = this.mismatch(secret);
    if (wrong !== undefined) return Promise.reject(wrong);
    const copy = ownedBytes(elements);
    return this.submit((task) => ({ request: { type: 'blind', task, id: secret.id, elements: copy }, transfer: [copy.buffer] }));
  }

  destroySecret(secret: PsiSecretHandle): void {
    if (this.closed !== undefined) return;
    for (const s of this.slots) s.worker.postMessage({ type: 'destroy', id: secret.id } satisfies PsiWorkerRequest);
  }

  async close(): Promise<void> {
    if (this.closed === undefined) this.closed = new EduFedError('INTERNAL', 'PSI compute backend is closed');
    const err = this.closed;
    for (const t of this.queue.splice(0)) t.reject(err);
    for (const s of this.slots) {
      for (const t of s.pending.values()) t.reject(err);
      s.pending.clear();
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

function startWorker(suite: PsiSuite): Promise<Worker> {
  const data: PsiWorkerData = { suite };
  const worker = new Worker(new URL('./psi-worker.js', import.meta.url), { workerData: data });
  return new Promise<Worker>((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      if (!isReply(m)) return;
      worker.off('message', onMessage);
      worker.off('error', onError);
      if (m.type === 'ready') resolve(worker);
      else {
        void worker.terminate();
        reject(m.type === 'failed' ? errorFrom(m.error) : new EduFedError('INTERNAL', `PSI worker sent ${m.type} before ready`));
      }
    };
    const onError = (err: Error): void => {
      worker.off('message', onMessage);
      reject(new EduFedError('INTERNAL', `PSI worker failed to start: ${err.message}`, { cause: err }));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
  });
}

/**
 * A backend spreading batches over worker threads.
 * @throws ConfigError for an unknown suite or a thread count that is not a positive integer;
 *   EduFedError (INTERNAL) when a worker cannot start.
 */
export async function workerCompute(options: WorkerComputeOptions): Promise<PsiCompute> {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new ConfigError('threads', `expected an integer in 1 … 256, got ${threads}`);
  const group = await loadPsiGroup(options.suite);
  const started = await Promise.allSettled(Array.from({ length: threads }, () => startWorker(options.suite)));
  const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw failure.reason instanceof EduFedError ? failure.reason : new EduFedError('INTERNAL', String(failure.reason));
  }
  return new WorkerCompute(options.suite, group, workers.map((worker) => ({ worker, pending: new Map<number, Task>() })));
}
