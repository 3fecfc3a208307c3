/**
 * The `edufed.v1.Federation` service of `edufed.proto`, declared for grpc-js by hand: one
 * bidirectional `Connect` stream of `Frame` messages. Frames pass through gRPC as raw bytes and are
 * decoded by our own codec (see frame.ts), so a malformed frame is our typed error, not a gRPC
 * internal one, and no code generator is needed.
 */
import type { ChannelOptions, MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { DEFAULT_CHUNK_BYTES, FRAME_OVERHEAD_BYTES } from './frame.js';
import { ConfigError } from '../core/errors.js';

/** Fully qualified service name, as in `edufed.proto`. */
export const FEDERATION_SERVICE = 'edufed.v1.Federation';
/** Version of the hello/welcome exchange; a participant announcing another one is refused. */
export const TRANSPORT_PROTOCOL_VERSION = 1;

/** HTTP/2 path of the `Connect` method. */
export const CONNECT_PATH = `/${FEDERATION_SERVICE}/Connect`;

const passThrough = (b: Buffer): Buffer => b;

/** The `Connect` method: a bidirectional stream of encoded `Frame` messages. */
export const connectMethod: MethodDefinition<Buffer, Buffer> = {
  path: CONNECT_PATH,
  requestStream: true,
  responseStream: true,
  requestSerialize: passThrough,
  requestDeserialize: passThrough,
  responseSerialize: passThrough,
  responseDeserialize: passThrough,
  originalName: 'Connect',
};

/** The service definition to pass to `Server.addService`. */
export const federationService: ServiceDefinition = { Connect: connectMethod };

/** Default largest gRPC message (one frame): 4 MiB, gRPC's usual receive limit. */
export const DEFAULT_MAX_FRAME_BYTES = 4 << 20;
/** Default interval between HTTP/2 keepalive pings. */
export const DEFAULT_KEEPALIVE_MS = 2_000;
/**
 * Default time to wait for a ping's answer before declaring the peer dead. Tolerant of a peer whose
 * event loop is busy for a few seconds (decoding, aggregating, training), while a dead peer is still
 * noticed within {@link DEFAULT_KEEPALIVE_MS} + this = 10 s.
 */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 8_000;

/** Link tuning shared by both ends. */
export interface LinkTuning {
  /** Payload bytes per frame (default 1 MiB). */
  readonly chunkBytes?: number;
  /** Largest gRPC message sent or accepted (default 4 MiB); must exceed chunkBytes plus frame overhead. */
  readonly maxFrameBytes?: number;
  /** Largest reassembled envelope accepted or sent (default 256 MiB). */
  readonly maxEnvelopeBytes?: number;
  /** Keepalive ping interval in ms (default 2000). */
  readonly keepaliveMs?: number;
  /** Keepalive ping timeout in ms (default 8000): a dead peer is noticed within keepaliveMs + this. */
  readonly keepaliveTimeoutMs?: number;
}

/** Resolved, validated tuning. */
export interface ResolvedTuning {
  readonly chunkBytes: number;
  readonly maxFrameBytes: number;
  readonly maxEnvelopeBytes: number;
  readonly keepaliveMs: number;
  readonly keepaliveTimeoutMs: number;
}

function positiveInt(v: number | undefined, fallback: number, field: string): number {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(field, `${String(v)} must be a positive integer`);
  return n;
}

/**
 * Fills in defaults and checks consistency.
 * @throws ConfigError for a non-positive value or chunks that would not fit in a frame.
 */
export function resolveTuning(t: LinkTuning, defaultMaxEnvelopeBytes: number): ResolvedTuning {
  const chunkBytes = positiveInt(t.chunkBytes, DEFAULT_CHUNK_BYTES, 'chunkBytes');
  const maxFrameBytes = positiveInt(t.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 'maxFrameBytes');
  if (chunkBytes + FRAME_OVERHEAD_BYTES > maxFrameBytes) {
    throw new ConfigError('chunkBytes', `${chunkBytes} plus ${FRAME_OVERHEAD_BYTES} bytes of frame overhead exceeds maxFrameBytes ${maxFrameBytes}`);
  }
  return {
    chunkBytes,
    maxFrameBytes,
    maxEnvelopeBytes: positiveInt(t.maxEnvelopeBytes, defaultMaxEnvelopeBytes, 'maxEnvelopeBytes'),
    keepaliveMs: positiveInt(t.keepaliveMs, DEFAULT_KEEPALIVE_MS, 'keepaliveMs'),
    keepaliveTimeoutMs: positiveInt(t.keepaliveTimeoutMs, DEFAULT_KEEPALIVE_TIMEOUT_MS, 'keepaliveTimeoutMs'),
  };
}

/** grpc-js options both ends set explicitly: message size limits and keepalive. */
export function grpcOptions(t: ResolvedTuning): ChannelOptions {
  return {
    'grpc.max_send_message_length': t.maxFrameBytes,
    'grpc.max_receive_message_length': t.maxFrameBytes,
    'grpc.keepalive_time_ms': t.keepaliveMs,
    'grpc.keepalive_timeout_ms': t.keepaliveTimeoutMs,
  };
}
