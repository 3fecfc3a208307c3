/**
 * CKKS secure aggregation for horizontal jobs: the coordinator adds the participants' encrypted
 * weighted deltas and a participant decrypts only the sum. Protocol and threat note: `protocol.ts`.
 */
import { ConfigError } from '../../core/errors.js';
import { isRecord } from '../../core/validate.js';
import { DEFAULT_CKKS_PARAMS, validateCkksParams, type CkksParams } from '../../crypto/ckks.js';
import type { CkksWeighting } from './protocol.js';

/** The CKKS settings of a job (the `privacy.ckks` section of a job configuration). */
export interface CkksConfig {
  /** Weight of each delta: `examples` (n_k, FedAvg) or `uniform` (1 each, as platform-level DP needs). Default `examples`. */
  readonly weighting: CkksWeighting;
  /** Fewest inputs a decrypted sum may hold (the round also needs its quorum). Default 2. */
  readonly minInputs: number;
  /** Most inputs a sum may hold; each input may use 1/maxInputs of the headroom. Default 1000. */
  readonly maxInputs: number;
  /** Encryption parameters. Default {@link DEFAULT_CKKS_PARAMS}. */
  readonly params: CkksParams;
  /** Deadline of each key-setup request; default the round's deadline. */
  readonly keySetupTimeoutMs?: number;
}

/** The defaults of {@link validateCkksConfig}. */
export const DEFAULT_CKKS_CONFIG: CkksConfig = Object.freeze({
  weighting: 'examples',
  minInputs: 2,
  maxInputs: 1000,
  params: DEFAULT_CKKS_PARAMS,
});

const KNOWN_FIELDS = new Set(['weighting', 'minInputs', 'maxInputs', 'params', 'keySetupTimeoutMs']);

function positiveInteger(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new ConfigError(field, `must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Checks a job's CKKS settings (absent fields take {@link DEFAULT_CKKS_CONFIG}).
 * @throws ConfigError naming the field (under `field`, default `privacy.ckks`): an unknown field, a
 *   weighting other than examples/uniform, minInputs or maxInputs not a positive integer or
 *   minInputs above maxInputs, invalid parameters, a non-positive key-setup deadline.
 */
export function validateCkksConfig(value: unknown, field = 'privacy.ckks'): CkksConfig {
  if (value === undefined) return DEFAULT_CKKS_CONFIG;
  if (!isRecord(value)) throw new ConfigError(field, 'expected an object');
  for (const key of Object.keys(value)) {
    if (!KNOWN_FIELDS.has(key)) throw new ConfigError(`${field}.${key}`, `unknown field; expected one of: ${[...KNOWN_FIELDS].join(', ')}`);
  }
  const weighting = value['weighting'] ?? DEFAULT_CKKS_CONFIG.weighting;
  if (weighting !== 'examples' && weighting !== 'uniform') {
    throw new ConfigError(`${field}.weighting`, `must be "examples" or "uniform", got ${JSON.stringify(weighting)}`);
  }
  const minInputs = positiveInteger(value['minInputs'] ?? DEFAULT_CKKS_CONFIG.minInputs, `${field}.minInputs`);
  const maxInputs = positiveInteger(value['maxInputs'] ?? DEFAULT_CKKS_CONFIG.maxInputs, `${field}.maxInputs`);
  if (minInputs > maxInputs) throw new ConfigError(`${field}.minInputs`, `${minInputs} exceeds maxInputs (${maxInputs})`);
  const params = value['params'] === undefined ? DEFAULT_CKKS_PARAMS : validateCkksParams(value['params'], `${field}.params`);
  const timeout = value['keySetupTimeoutMs'];
  if (timeout !== undefined && !(typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0)) {
    throw new ConfigError(`${field}.keySetupTimeoutMs`, `must be a positive number, got ${JSON.stringify(timeout)}`);
  }
  return { weighting, minInputs, maxInputs, params, ...(typeof timeout === 'number' ? { keySetupTimeoutMs: timeout } : {}) };
}

export type {
  AgreementKey,
  CkksCollectRequest,
  CkksCollectResult,
  CkksDecryptRequest,
  CkksDecryptResult,
  CkksErrorReply,
  CkksHelloRequest,
  CkksHelloResult,
  CkksInstallRequest,
  CkksInstallResult,
  CkksKeygenRequest,
  CkksKeygenResult,
  CkksReply,
  CkksReplyTo,
  CkksRequest,
  CkksShareRequest,
  CkksShareResult,
  CkksWeighting,
  SealedSecretKey,
} from './protocol.js';
export { CKKS_REPLY_STEP, SLOT_COUNT, SLOT_DELTA, SLOT_WEIGHT } from './protocol.js';
export { CKKS_KIND_PREFIX, decodeCkksReply, decodeCkksRequest, encodeCkksReply, encodeCkksRequest, MAX_CIPHERTEXTS, MAX_PEERS } from './codec.js';
export { CkksClient, ckksKeyId, openSecretKey, sealSecretKey, type CkksClientOptions } from './client.js';
export {
  ckksKeySetup,
  ckksRound,
  createCkksKeyState,
  type CkksCall,
  type CkksKeySetupOptions,
  type CkksKeySetupResult,
  type CkksKeyState,
  type CkksRoundOptions,
} from './server.js';
