/**
 * A vertical job driven over the transport's links: the coordinator opens the job at every
 * platform, relays PSI between the label holder and each feature holder (sealed envelopes it
 * cannot read), relays the alignment step (sealed end to end from the label holder to each feature
 * holder), then acts as the {@link Arbiter}: its messages go out as requests, and one long-poll
 * loop per platform (`vertical.pull`) brings the platforms' messages back. It never sees a learner
 * identifier: only intersection sizes and row indices into the platforms' private tables.
 */
import { EduFedError, toErrorInfo, ValidationError } from '../core/errors.js';
import { alignmentCounts, type AlignmentCounts, type VerticalAlignment } from '../federation/vertical/align.js';
import { Arbiter, type VerticalTrainResult } from '../federation/vertical/arbiter.js';
import { decodeVerticalMessage, encodeVerticalMessage, KIND_PREFIX } from '../federation/vertical/codec.js';
import type { PartyRole } from '../federation/vertical/protocol.js';
import { ARBITER } from '../federation/vertical/vertical-party.js';
import { createJobSalt, isPsiKind } from '../federation/vertical/psi/index.js';
import type { Envelope, EnvelopeBody, ParticipantLink } from '../transport/channel.js';
import type { JobWorkflow } from './job-workflow.js';
import type { VerticalJobConfig } from './vertical-config.js';
import { bytesOf, bytesTensor, controlBody, headerOf, intField, rowsOf, VERTICAL_KINDS } from './vertical-wire.js';

/** What a finished deployed vertical job reports. */
export interface VerticalJobResult {
  readonly train: VerticalTrainResult;
  /** Intersection size of the label holder with each feature holder. */
  readonly intersections: Readonly<Record<string, number>>;
  readonly counts: readonly AlignmentCounts[];
}

/** Per-epoch progress of a deployed vertical job. */
export interface VerticalProgress {
  readonly phase: 'psi' | 'aligned' | 'epoch';
  readonly message: string;
}

/** Finds the current link of a participant. */
export type LinkLookup = (participantId: string) => ParticipantLink | undefined;

const PULL_TIMEOUT_MS = 60_000;

/**
 * The workflow of one vertical job.
 * @param onResult receives the result before the workflow returns its stop reason.
 * @throws (from the workflow) {EduFedError} code PARTICIPANT when a platform is not connected,
 *   fails or misses `stepTimeoutMs`; {ValidationError} for a malformed answer.
 */
export function verticalJob(config: VerticalJobConfig, links: LinkLookup, onResult: (r: VerticalJobResult) => void, onProgress?: (p: VerticalProgress) => void): JobWorkflow {
  return async (ctx) => {
    const { jobId } = config;
    const parties: { readonly id: string; readonly role: PartyRole }[] = [
      { id: config.labelHolder, role: 'label-holder' },
      ...config.featureHolders.map((id) => ({ id, role: 'feature-holder' as const })),
    ];
    const linkOf = (id: string): ParticipantLink => {
      const link = links(id);
      if (link === undefined || !link.connected) throw new EduFedError('PARTICIPANT', `platform "${id}" is not connected`);
      return link;
    };
    const abort = new AbortController();
    let failure: unknown;
    let arbiter: Arbiter | undefined;
    const fail = (who: string, err: unknown): void => {
      if (failure !== undefined) return;
      failure = err;
      const party = parties.find((p) => p.id === who);
      if (arbiter !== undefined && party !== undefined) {
        arbiter.receive({ step: 'error', from: { role: party.role, id: party.id }, to: ARBITER, payload: { jobId, error: toErrorInfo(err) } });
      }
      abort.abort();
    };
    const request = (id: string, body: EnvelopeBody, timeoutMs = config.stepTimeoutMs): Promise<Envelope> => linkOf(id).request(body, { timeoutMs, signal: abort.signal });
    // One delivery chain per platform keeps its messages in the order they were sent.
    const chains = new Map<string, Promise<void>>();
    const deliver = (id: string, body: EnvelopeBody): void => {
      const prev = chains.get(id) ?? Promise.resolve();
      chains.set(
        id,
        prev.then(async () => {
          if (failure !== undefined) return;
          try {
            const reply = await request(id, body);
            if (reply.kind !== VERTICAL_KINDS.ack) throw new ValidationError(id, `expected ${VERTICAL_KINDS.ack} to ${body.kind}, got ${reply.kind}`);
          } catch (err) {
            fail(id, err);
          }
        }),
      );
    };

    // 1. Open the job at every platform.
    const salt = Buffer.from(createJobSalt()).toString('hex');
    await Promise.all(
      parties.map(async (p) => {
        const reply = await request(p.id, controlBody(VERTICAL_KINDS.open, jobId, {
          idColumn: config.idColumn,
          labelHolder: config.labelHolder,
          featureHolders: config.featureHolders,
          config: { ...config.train },
          psi: { suite: config.psi.suite, reveal: config.psi.reveal, salt },
        }));
        const role = headerOf(reply)['role'];
        if (reply.kind !== VERTICAL_KINDS.opened || role !== p.role) throw new ValidationError(p.id, `expected to open as ${p.role}, answered ${reply.kind} ${String(role)}`);
      }),
    );

    // 2. Pull loops: PSI envelopes are forwarded to the peer they name, training messages go to the arbiter.
    const peersOf = (id: string): readonly string[] => (id === config.labelHolder ? config.featureHolders : [config.labelHolder]);
    const pull = async (id: string): Promise<void> => {
      while (!abort.signal.aborted) {
        let reply: Envelope;
        try {
          reply = await request(id, controlBody(VERTICAL_KINDS.pull, jobId, {}), PULL_TIMEOUT_MS);
        } catch (err) {
          if (!abort.signal.aborted) fail(id, err);
          return;
        }
        try {
          if (reply.kind === VERTICAL_KINDS.idle) continue;
          if (isPsiKind(reply.kind)) {
            const h = headerOf(reply);
            const target = h['peer'];
            if (typeof target !== 'string' || !peersOf(id).includes(target)) throw new ValidationError(id, `${reply.kind}: cannot relay to ${JSON.stringify(target)}`);
            deliver(target, { kind: reply.kind, jobId, round: reply.round, header: { ...h, peer: id }, tensors: reply.tensors });
          } else if (reply.kind.startsWith(KIND_PREFIX)) {
            const m = decodeVerticalMessage(reply, id);
            if (arbiter === undefined) throw new ValidationError(id, `${reply.kind} before training started`);
            arbiter.receive(m);
          } else throw new ValidationError(id, `unexpected ${reply.kind} from a pull`);
        } catch (err) {
          fail(id, err);
          return;
        }
      }
    };
    const loops = parties.map((p) => pull(p.id));

    try {
      // 3. PSI between the label holder and each feature holder.
      const intersections: Record<string, number> = {};
      const alignKeys = new Map<string, Uint8Array>();
      await Promise.all(
        config.featureHolders.map(async (f) => {
          const [lh, fh] = await Promise.all([
            request(config.labelHolder, controlBody(VERTICAL_KINDS.psi, jobId, { peer: f })),
            request(f, controlBody(VERTICAL_KINDS.psi, jobId, { peer: config.labelHolder })),
          ]);
          const size = intField(lh, headerOf(lh), 'size');
          if (intField(fh, headerOf(fh), 'size') !== size) throw new ValidationError(f, `PSI sizes disagree with the label holder's`);
          intersections[f] = size;
          alignKeys.set(f, bytesOf(fh, 'alignKey', 32));
          onProgress?.({ phase: 'psi', message: `PSI ${config.labelHolder} ∩ ${f}: ${size} learners` });
        }),
      );

      // 4. Alignment: the label holder's positions, sealed per feature holder; each returns its row map.
      const aligned = await request(
        config.labelHolder,
        controlBody(VERTICAL_KINDS.align, jobId, { testFraction: config.testFraction, seed: config.train.seed, peers: config.featureHolders }, config.featureHolders.map((f) => bytesTensor(`alignKey.${f}`, alignKeys.get(f) ?? new Uint8Array()))),
      );
      const h = headerOf(aligned);
      const n = intField(aligned, h, 'n');
      const nTrain = intField(aligned, h, 'nTrain');
      const rows = new Map<string, Int32Array>([[config.labelHolder, rowsOf(aligned, 'rows', n, n)]]);
      await Promise.all(
        config.featureHolders.map(async (f) => {
          const reply = await request(f, controlBody(VERTICAL_KINDS.deliver, jobId, { n, nTrain }, [bytesTensor('key', bytesOf(aligned, 'key', 32)), bytesTensor('sealed', bytesOf(aligned, `sealed.${f}`))]));
          rows.set(f, rowsOf(reply, 'rows', n, 2 ** 31 - 1));
        }),
      );
      const alignment: VerticalAlignment = { n, nTrain, rows };
      const counts = alignmentCounts(alignment);
      onProgress?.({ phase: 'aligned', message: `aligned ${n} learners (${nTrain} train): ${counts.map((c) => `${c.party} ${c.present} present / ${c.imputed} imputed`).join(', ')}` });

      // 5. Training, the arbiter's messages as requests.
      arbiter = new Arbiter(config.train, parties, {
        send: (m) => deliver(m.to.id, encodeVerticalMessage(m)),
        timeoutMs: config.stepTimeoutMs,
        onEvent: (e) => {
          if (e.kind === 'epoch') {
            ctx.logger.info('vertical epoch', { job: jobId, epoch: e.epoch, loss: e.loss, ms: Math.round(e.ms) });
            onProgress?.({ phase: 'epoch', message: `epoch ${e.epoch}/${config.train.epochs} loss ${e.loss.toFixed(4)} (${Math.round(e.ms)} ms)` });
          }
        },
      });
      if (failure !== undefined) throw failure;
      let train: VerticalTrainResult;
      try {
        train = await arbiter.train(alignment);
      } finally {
        await arbiter.finish().catch(() => undefined);
      }
      const m = train.metrics;
      onResult({ train, intersections, counts });
      return {
        stopReason: JSON.stringify({
          reason: 'completed',
          mode: config.train.mode,
          epochs: train.epochs.map((e) => ({ epoch: e.epoch, loss: e.loss, ms: Math.round(e.ms) })),
          metrics: { accuracy: m.accuracy, auc: m.auc, f1: m.f1, logLoss: m.logLoss },
          intersections,
          counts,
        }),
      };
    } catch (err) {
      throw failure ?? err;
    } finally {
      abort.abort();
      await Promise.allSettled(loops);
    }
  };
}
