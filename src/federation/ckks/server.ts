/**
 * The coordinator side of CKKS secure aggregation: key setup (the coordinator relays, and keeps
 * only the public key) and the round runner that adds the survivors' ciphertexts and has one
 * survivor decrypt the sum. Message flow and threat note: `protocol.ts`.
 */
import { EduFedError, ValidationError } from '../../core/errors.js';
import { createCkks, type Ckks, type CkksParams } from '../../crypto/ckks.js';
import type { SecureDropped, SecureMeta, SecureRoundInput, SecureRoundOutput, SecureRoundRunner } from '../secure-round.js';
import { ckksKeyId } from './client.js';
import type { CkksConfig } from './index.js';
import { SLOT_COUNT, SLOT_DELTA, SLOT_WEIGHT, type AgreementKey, type CkksReply, type CkksRequest, type SealedSecretKey } from './protocol.js';

/**
 * Sends one CKKS request to one participant of the job and resolves with its validated reply.
 * Rejects on timeout, disconnect or abort.
 */
export type CkksCall = (
  participantId: string,
  req: CkksRequest,
  options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
) => Promise<CkksReply>;

/** What the coordinator knows of a job's CKKS key: never the secret key. */
export interface CkksKeyState {
  /** The job's CKKS public key, once a leader made one. */
  publicKey: Uint8Array | undefined;
  /** {@link ckksKeyId} of `publicKey`. */
  keyId: string | undefined;
  /** Participants that installed the secret key (as far as the coordinator knows). */
  readonly holders: Set<string>;
  /** Each participant's latest agreement key (X25519 public key). */
  readonly agreementKeys: Map<string, Uint8Array>;
}

/** A fresh key state: no key yet; the first key setup makes one. */
export function createCkksKeyState(): CkksKeyState {
  return { publicKey: undefined, keyId: undefined, holders: new Set(), agreementKeys: new Map() };
}

/** What a key setup achieved. */
export interface CkksKeySetupResult {
  /** Participants that installed the key in this setup (the leader included), sorted. */
  readonly installed: readonly string[];
  /** Participants left without the key, and why. */
  readonly failed: readonly SecureDropped[];
}

/** Options of {@link ckksKeySetup}. */
export interface CkksKeySetupOptions {
  readonly params: CkksParams;
  /** Deadline of each request. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function failure(participantId: string, why: string, flagged = false): SecureDropped {
  return { participantId, reason: why, flagged };
}

function describeReply(reply: CkksReply): string {
  return reply.step === 'ckks-error' ? `error: ${reply.payload.message}` : `unexpected reply "${reply.step}"`;
}

/**
 * Makes every listed participant a holder of the job's CKKS secret key. Participants that already
 * hold it are skipped; the others are asked for fresh agreement keys (`ckks-hello`). While the job
 * has a key, a current holder (by sorted id, falling back to the next) seals it to them
 * (`ckks-share`); with no key, or no holder left, the first responder by sorted id creates a new one
 * (`ckks-keygen`, with the same fallback) and seals it to the others. Each recipient then installs
 * it (`ckks-install`). Updates `state`.
 * Never throws for a participant's failure: it is listed in `failed`.
 */
export async function ckksKeySetup(
  state: CkksKeyState,
  participants: readonly string[],
  call: CkksCall,
  options: CkksKeySetupOptions,
): Promise<CkksKeySetupResult> {
  const opts = { timeoutMs: options.timeoutMs, ...(options.signal !== undefined ? { signal: options.signal } : {}) };
  const need = [...new Set(participants)].filter((p) => !state.holders.has(p)).sort();
  const failed: SecureDropped[] = [];
  const installed: string[] = [];
  if (need.length === 0) return { installed, failed };

  // 1. Fresh agreement keys from everyone who needs the secret key.
  const fresh = new Map<string, Uint8Array>();
  await Promise.all(
    need.map(async (p) => {
      try {
        const reply = await call(p, { step: 'ckks-hello', from: 'coordinator', to: 'participant', payload: { params: options.params } }, opts);
        if (reply.step !== 'ckks-hello-result') return void failed.push(failure(p, `key setup: ${describeReply(reply)}`));
        state.agreementKeys.set(p, reply.payload.agreementKey);
        fresh.set(p, reply.payload.agreementKey);
      } catch (err) {
        failed.push(failure(p, `key setup: no reply to ckks-hello: ${reason(err)}`));
      }
    }),
  );
  const responders: AgreementKey[] = [...fresh].sort(([a], [b]) => (a < b ? -1 : 1)).map(([participantId, publicKey]) => ({ participantId, publicKey }));

  // 2. Someone seals the secret key to the others: a current holder, or (no key, or no holder
  //    left) a new leader, whose key then replaces the job's key.
  let sealer: AgreementKey | undefined;
  let sealed: readonly SealedSecretKey[] = [];
  if (state.keyId !== undefined) {
    for (const holder of [...state.holders].sort()) {
      const holderKey = state.agreementKeys.get(holder);
      if (responders.length === 0 || holderKey === undefined) continue;
      try {
        const reply = await call(holder, { step: 'ckks-share', from: 'coordinator', to: 'participant', payload: { peers: responders } }, opts);
        if (reply.step === 'ckks-share-result') {
          sealer = { participantId: holder, publicKey: holderKey };
          sealed = reply.payload.sealed;
          break;
        }
        if (reply.step === 'ckks-error' && reply.payload.needsKey) state.holders.delete(holder);
      } catch {
        // That holder is unreachable; the next one may do.
      }
    }
  }
  if (sealer === undefined && state.holders.size === 0) {
    for (const leader of responders) {
      const peers = responders.filter((p) => p !== leader);
      try {
        const reply = await call(leader.participantId, { step: 'ckks-keygen', from: 'coordinator', to: 'participant', payload: { params: options.params, peers } }, opts);
        if (reply.step !== 'ckks-keygen-result') {
          failed.push(failure(leader.participantId, `key setup: ckks-keygen: ${describeReply(reply)}`));
          continue;
        }
        state.publicKey = reply.payload.publicKey;
        state.keyId = ckksKeyId(reply.payload.publicKey);
        state.holders.add(leader.participantId);
        installed.push(leader.participantId);
        sealer = leader;
        sealed = reply.payload.sealed;
        break;
      } catch (err) {
        failed.push(failure(leader.participantId, `key setup: no reply to ckks-keygen: ${reason(err)}`));
      }
    }
  }

  // 3. Every recipient installs the key sealed to it.
  const publicKey = state.publicKey;
  const keyId = state.keyId;
  const recipients = responders.map((r) => r.participantId).filter((p) => p !== sealer?.participantId && !failed.some((f) => f.participantId === p));
  if (sealer === undefined || publicKey === undefined || keyId === undefined) {
    for (const p of recipients) failed.push(failure(p, 'key setup: no participant could create or share the CKKS key'));
    return { installed, failed: sortDropped(failed) };
  }
  const from = sealer;
  const byRecipient = new Map(sealed.map((s) => [s.participantId, s.sealed]));
  await Promise.all(
    recipients.map(async (p) => {
      const sealedSecretKey = byRecipient.get(p);
      if (sealedSecretKey === undefined) return void failed.push(failure(p, `key setup: "${from.participantId}" sealed no key for this participant`));
      try {
        const reply = await call(
          p,
          {
            step: 'ckks-install',
            from: 'coordinator',
            to: 'participant',
            payload: { params: options.params, sealer: from.participantId, sealerKey: from.publicKey, publicKey, sealedSecretKey },
          },
          opts,
        );
        if (reply.step !== 'ckks-install-result') return void failed.push(failure(p, `key setup: ckks-install: ${describeReply(reply)}`));
        if (reply.payload.keyId !== keyId) return void failed.push(failure(p, "key setup: installed another key than the job's", true));
        state.holders.add(p);
        installed.push(p);
      } catch (err) {
        failed.push(failure(p, `key setup: no reply to ckks-install: ${reason(err)}`));
      }
    }),
  );
  return { installed: installed.sort(), failed: sortDropped(failed) };
}

/** Options of {@link ckksRound}. */
export interface CkksRoundOptions {
  /** Key states by job id, to share with other code or keep across runners; a private map by default. */
  readonly keys?: Map<string, CkksKeyState>;
}

/**
 * The CKKS secure-round runner. Each round: key setup for selected participants that lack the key;
 * `ckks-collect` to the key holders among them; the coordinator adds the valid ciphertexts (dropouts
 * simply do not contribute); the first survivor by sorted id decrypts the sum, falling back to the
 * next on failure. The weight sum is rounded to an integer (weights are example counts or 1, and the
 * CKKS error is far below 0.5). `bytes` counts the tensor bytes of collect and decrypt messages
 * (global model, ciphertexts, decrypted values), not key setup or headers.
 * @throws EduFedError (ROUND) from the runner when fewer than max(minParticipants, config.minInputs)
 *   inputs are in the sum, when more than config.maxInputs are selected, or when no survivor decrypts.
 */
export function ckksRound(config: CkksConfig, call: CkksCall, options: CkksRoundOptions = {}): SecureRoundRunner {
  const keys = options.keys ?? new Map<string, CkksKeyState>();
  let ckks: Promise<Ckks> | undefined;
  return async (input: SecureRoundInput): Promise<SecureRoundOutput> => {
    const { jobId, round, global, timeoutMs } = input;
    const selected = [...new Set(input.selected)].sort();
    const quorum = Math.max(input.minParticipants, config.minInputs);
    if (selected.length > config.maxInputs) {
      throw new EduFedError('ROUND', `round ${round}: ${selected.length} participants selected, but CKKS is configured for at most ${config.maxInputs} inputs per sum`);
    }
    if (global.length === 0) throw new EduFedError('ROUND', `round ${round}: the global model is empty`);
    ckks ??= createCkks(config.params).catch((err: unknown) => {
      ckks = undefined;
      throw err;
    });
    const he = await ckks;
    const state = keys.get(jobId) ?? createCkksKeyState();
    keys.set(jobId, state);
    const dropped: SecureDropped[] = [];
    const setup = await ckksKeySetup(state, selected, call, { params: config.params, timeoutMs: config.keySetupTimeoutMs ?? timeoutMs });
    dropped.push(...setup.failed.filter((f) => selected.includes(f.participantId)));
    const keyId = state.keyId;
    const ready = selected.filter((p) => state.holders.has(p));
    const belowQuorum = (count: number, what: string): EduFedError =>
      new EduFedError(
        'ROUND',
        `round ${round}: only ${count} participants ${what}, quorum is ${quorum}` +
          (dropped.length > 0 ? ` (dropped: ${dropped.map((d) => `${d.participantId}: ${d.reason}`).join('; ')})` : ''),
      );
    if (keyId === undefined || ready.length < quorum) throw belowQuorum(keyId === undefined ? 0 : ready.length, 'hold the CKKS key');

    // Collect, adding each valid input as it arrives.
    const length = SLOT_DELTA + global.length;
    const parts = he.ciphertextCount(length);
    const acc = he.createSum();
    const survivors: string[] = [];
    const meta = new Map<string, SecureMeta>();
    let sent = 0;
    let received = 0;
    try {
      await Promise.all(
        ready.map(async (p) => {
          sent += global.byteLength;
          let reply: CkksReply;
          try {
            reply = await call(
              p,
              {
                step: 'ckks-collect',
                from: 'coordinator',
                to: 'participant',
                payload: {
                  train: { round, params: global, instructions: input.instructions, ...(input.evaluate ? { evaluate: true } : {}) },
                  weighting: config.weighting,
                  maxInputs: config.maxInputs,
                  keyId,
                },
              },
              { timeoutMs },
            );
          } catch (err) {
            dropped.push(failure(p, `no reply: ${reason(err)}`));
            return;
          }
          if (reply.step === 'ckks-error') {
            if (reply.payload.needsKey) state.holders.delete(p);
            dropped.push(failure(p, `error: ${reply.payload.message}`));
            return;
          }
          if (reply.step !== 'ckks-collect-result') return void dropped.push(failure(p, `unexpected reply "${reply.step}"`, true));
          const { ciphertexts } = reply.payload;
          for (const c of ciphertexts) received += c.byteLength;
          if (reply.payload.round !== round) return void dropped.push(failure(p, `answered for round ${reply.payload.round}`, true));
          if (ciphertexts.length !== parts) return void dropped.push(failure(p, `sent ${ciphertexts.length} ciphertexts, expected ${parts}`, true));
          try {
            he.addInto(acc, ciphertexts, 'ciphertexts');
          } catch (err) {
            if (!(err instanceof ValidationError)) throw err;
            return void dropped.push(failure(p, `invalid ciphertexts: ${err.message}`, true));
          }
          survivors.push(p);
          meta.set(p, reply.payload.meta);
        }),
      );
      survivors.sort();
      if (survivors.length < quorum) throw belowQuorum(survivors.length, 'sent valid encrypted updates');
      const sum = acc.save();
      acc.dispose();

      // Decrypt: the first survivor by id, then the next.
      const failures: string[] = [];
      for (const decryptor of survivors) {
        for (const c of sum) sent += c.byteLength;
        let reply: CkksReply;
        try {
          reply = await call(
            decryptor,
            { step: 'ckks-decrypt', from: 'coordinator', to: 'participant', payload: { round, keyId, contributors: survivors, length, ciphertexts: sum } },
            { timeoutMs },
          );
        } catch (err) {
          failures.push(`${decryptor}: no reply: ${reason(err)}`);
          continue;
        }
        if (reply.step !== 'ckks-decrypt-result') {
          failures.push(`${decryptor}: ${describeReply(reply)}`);
          continue;
        }
        const values = reply.payload.values;
        received += values.byteLength;
        const problem = checkSum(values, length, round, reply.payload.round, survivors.length);
        if (problem !== undefined) {
          failures.push(`${decryptor}: ${problem}`);
          continue;
        }
        return {
          weightedDeltaSum: values.slice(SLOT_DELTA),
          weightSum: Math.round(values[SLOT_WEIGHT] as number),
          survivors,
          dropped: sortDropped(dropped),
          meta,
          bytes: { sent, received },
        };
      }
      throw new EduFedError('ROUND', `round ${round}: no survivor decrypted the sum (${failures.join('; ')})`);
    } finally {
      acc.dispose();
    }
  };
}

/** Why a decrypted sum is unusable, or undefined when it is fine. */
function checkSum(values: Float64Array, length: number, round: number, replyRound: number, contributors: number): string | undefined {
  if (replyRound !== round) return `answered for round ${replyRound}`;
  if (values.length !== length) return `returned ${values.length} values, expected ${length}`;
  if (!values.every(Number.isFinite)) return 'returned non-finite values';
  if (!(Math.abs((values[SLOT_COUNT] as number) - contributors) < 0.5)) return `the count slot is ${values[SLOT_COUNT]}, expected ${contributors}`;
  return undefined;
}

function sortDropped(list: SecureDropped[]): SecureDropped[] {
  return list.sort((a, b) => (a.participantId < b.participantId ? -1 : a.participantId > b.participantId ? 1 : 0));
}
