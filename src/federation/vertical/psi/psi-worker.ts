/**
 * Worker-thread entry of `workerCompute`: loads one PSI group, holds the secrets the main thread
 * sends it, and runs hash-and-blind / blind batches. Input and output bytes are transferred, not
 * copied. Messages are handled strictly in arrival order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError, EduFedError, toErrorInfo, type ErrorInfo } from '../../../core/errors.js';
import { isRecord } from '../../../core/validate.js';
import { loadPsiGroup, PSI_SUITES, type PsiGroup, type PsiSecret, type PsiSuite } from './group.js';

/** What the main thread sends a worker. */
export type PsiWorkerRequest =
  | { readonly type: 'secret'; readonly id: number; readonly raw: Uint8Array }
  | { readonly type: 'destroy'; readonly id: number }
  | { readonly type: 'hash-blind'; readonly task: number; readonly id: number; readonly bytes: Uint8Array; readonly offsets: Uint32Array }
  | { readonly type: 'blind'; readonly task: number; readonly id: number; readonly elements: Uint8Array };

/** What a worker answers: readiness, or one task's result. */
export type PsiWorkerReply =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly error: ErrorInfo }
  | { readonly type: 'done'; readonly task: number; readonly out: Uint8Array }
  | { readonly type: 'error'; readonly task: number; readonly error: ErrorInfo & { readonly name: string } };

/** What `workerData` carries. */
export interface PsiWorkerData {
  readonly suite: PsiSuite;
}

function suiteOf(data: unknown): PsiSuite {
  const suite = isRecord(data) ? data['suite'] : undefined;
  const found = PSI_SUITES.find((s) => s === suite);
  if (found === undefined) throw new ConfigError('suite', `psi-worker: unknown suite ${String(suite)}`);
  return found;
}

function run(group: PsiGroup, secrets: Map<number, PsiSecret>, req: PsiWorkerRequest): PsiWorkerReply | undefined {
  switch (req.type) {
    case 'secret':
      secrets.set(req.id, group.importSecret(req.raw));
      req.raw.fill(0);
      return undefined;
    case 'destroy':
      secrets.get(req.id)?.destroy();
      secrets.delete(req.id);
      return undefined;
    case 'hash-blind':
    case 'blind': {
      try {
        const secret = secrets.get(req.id);
        if (secret === undefined) throw new EduFedError('INTERNAL', `psi-worker: no secret #${req.id} (destroyed, or never sent)`);
        const out = req.type === 'blind' ? group.blindBatch(secret, req.elements) : group.hashBlindBatch(secret, { bytes: req.bytes, offsets: req.offsets });
        return { type: 'done', task: req.task, out };
      } catch (err) {
        return { type: 'error', task: req.task, error: { ...toErrorInfo(err), name: err instanceof Error ? err.name : 'Error' } };
      }
    }
  }
}

const port = parentPort;
if (port !== null) {
  const secrets = new Map<number, PsiSecret>();
  const loading = loadPsiGroup(suiteOf(workerData));
  let chain: Promise<PsiGroup | undefined> = loading.then(
    (g) => {
      port.postMessage({ type: 'ready' } satisfies PsiWorkerReply);
      return g;
    },
    (err: unknown) => {
      port.postMessage({ type: 'failed', error: toErrorInfo(err) } satisfies PsiWorkerReply);
      return undefined;
    },
  );
  port.on('message', (req: PsiWorkerRequest) => {
    chain = chain.then((group) => {
      if (group === undefined) return group;
      const reply = run(group, secrets, req);
      if (reply?.type === 'done') port.postMessage(reply, reply.out.buffer instanceof ArrayBuffer ? [reply.out.buffer] : []);
      else if (reply !== undefined) port.postMessage(reply);
      return group;
    });
  });
}
