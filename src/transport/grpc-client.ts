/**
 * Participant side of the gRPC transport: dials the coordinator over TLS 1.3 with its certificate,
 * says hello, answers the coordinator's requests with its handler, and after any disconnect
 * (network loss, coordinator restart) reconnects with exponential backoff and jitter. A refusal of
 * its identity by the coordinator (unknown, revoked, expired certificate) is final and logged.
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { checkServerIdentity, createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import { Client, Metadata, credentials, status as GrpcStatus, type ChannelOptions, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { ConfigError } from '../core/errors.js';
import { cryptoRng } from '../core/rng.js';
import type { AuditSink } from './audit.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { COORDINATOR_ID, HELLO_KIND, WELCOME_KIND, type RequestHandler } from './channel.js';
import { EnvelopeReceiver, EnvelopeSender } from './envelope-stream.js';
import type { Envelope } from './envelope.js';
import { DEFAULT_MAX_ENVELOPE_BYTES } from './frame.js';
import { CONNECT_PATH, grpcOptions, resolveTuning, TRANSPORT_PROTOCOL_VERSION, type LinkTuning, type ResolvedTuning } from './grpc-service.js';
import { checkOwnTlsMaterial, COORDINATOR_URI } from './identity.js';
import { stderrLogger, type TransportLogger } from './logger.js';
import type { TlsMaterial } from './pki.js';
import { RequestResponder } from './responder.js';

/** A participant connection's state, reported through `onState`. */
export type ParticipantConnectionState =
  | { readonly state: 'connecting'; readonly attempt: number }
  | { readonly state: 'connected' }
  | { readonly state: 'backoff'; readonly attempt: number; readonly delayMs: number; readonly reason: string }
  | { readonly state: 'refused'; readonly reason: string }
  | { readonly state: 'closed' };

/** TLS files of a participant, plus the name to expect in the coordinator's certificate. */
export interface ParticipantTls extends TlsMaterial {
  /** Host name the coordinator's certificate must carry (default: the host of `address`). */
  readonly serverName?: string;
}

/** Options of {@link connectParticipant}. */
export interface ConnectParticipantOptions extends LinkTuning {
  /** Coordinator address, `host:port` or `[ipv6]:port`. */
  readonly address: string;
  readonly tls: ParticipantTls;
  /** Must equal the id in the participant's certificate (checked at once). */
  readonly participantId: string;
  readonly handler: RequestHandler;
  /** Backoff bounds (defaults: 250 ms, 10 s). */
  readonly reconnect?: BackoffOptions;
  /** Called on every state change. */
  readonly onState?: (state: ParticipantConnectionState) => void;
  /** How long to wait for the coordinator's welcome after dialing (default 10 s). */
  readonly welcomeTimeoutMs?: number;
  readonly logger?: TransportLogger;
  /** Record of every envelope sent or received, as encoded on the wire (the participant's ledger). */
  readonly audit?: AuditSink;
}

/** A running participant connection. */
export interface ParticipantConnection {
  readonly participantId: string;
  readonly state: ParticipantConnectionState;
  /** Resolves with the final state: `closed` after {@link close}, or `refused`. */
  readonly done: Promise<ParticipantConnectionState>;
  /** Stops for good: drops the connection and any pending reconnect. */
  close(): Promise<void>;
}

function splitAddress(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:[\]]+):(\d+)$/.exec(address);
  const port = m !== null ? Number(m[2]) : NaN;
  if (m === null || m[1] === undefined || !(port > 0 && port < 65536)) {
    throw new ConfigError('address', `${JSON.stringify(address)} is not host:port`);
  }
  return { host: m[1], port };
}

function checkOwnCertificate(tls: TlsMaterial, participantId: string, now: Date): void {
  const identity = checkOwnTlsMaterial(tls);
  if (identity.role !== 'participant' || identity.id !== participantId) {
    throw new ConfigError('participantId', `"${participantId}" differs from the certificate's identity "${identity.id}"`);
  }
  if (now > identity.notAfter) throw new ConfigError('tls.certPem', `certificate of "${participantId}" expired on ${identity.notAfter.toISOString()}`);
}

class Connection implements ParticipantConnection {
  readonly participantId: string;
  readonly done: Promise<ParticipantConnectionState>;
  private current: ParticipantConnectionState = { state: 'connecting', attempt: 1 };
  private resolveDone: (s: ParticipantConnectionState) => void = () => {};
  private readonly tuning: ResolvedTuning;
  private readonly logger: TransportLogger;
  private readonly secureContext: SecureContext;
  private readonly channelOptions: ChannelOptions;
  private readonly expectedHost: string;
  private readonly random = cryptoRng();
  private attempts = 0;
  private failuresSinceWelcome = 0;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private activeCall: ClientDuplexStream<Buffer, Buffer> | undefined;

  constructor(private readonly options: ConnectParticipantOptions) {
    this.participantId = options.participantId;
    this.logger = options.logger ?? stderrLogger(`edufed participant ${options.participantId}`);
    this.tuning = resolveTuning(options, DEFAULT_MAX_ENVELOPE_BYTES);
    backoffDelay(0, options.reconnect ?? {}, () => 0);
    checkOwnCertificate(options.tls, options.participantId, new Date());
    const { host } = splitAddress(options.address);
    this.expectedHost = options.tls.serverName ?? host;
    this.secureContext = createSecureContext({
      ca: options.tls.caCertPem,
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      minVersion: 'TLSv1.3',
    });
    this.channelOptions = {
      ...grpcOptions(this.tuning),
      'grpc.keepalive_permit_without_calls': 1,
      // A fresh subchannel per attempt: no backoff state is inherited from a dead connection.
      'grpc.use_local_subchannel_pool': 1,
      'grpc.enable_retries': 0,
      'grpc-node.flow_control_window': 8 << 20,
      // TLS SNI may not carry an IP address (RFC 6066); the real check is checkCoordinator below.
      ...(isIP(this.expectedHost) !== 0 ? { 'grpc.ssl_target_name_override': 'edufed-coordinator' } : {}),
    };
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    this.attempt();
  }

  get state(): ParticipantConnectionState {
    return this.current;
  }

  private setState(s: ParticipantConnectionState): void {
    this.current = s;
    try {
      this.options.onState?.(s);
    } catch (err) {
      this.logger.error('onState callback threw', { error: err instanceof Error ? err.message : String(err) });
    }
    if (s.state === 'closed' || s.state === 'refused') this.resolveDone(s);
  }

  private checkCoordinator(cert: PeerCertificate): Error | undefined {
    const hostError = checkServerIdentity(this.expectedHost, cert);
    if (hostError !== undefined) return hostError;
    const sans = (cert.subjectaltname ?? '').split(', ');
    if (!sans.includes(`URI:${COORDINATOR_URI}`)) {
      return new Error(`the server's certificate is not an EduFed coordinator certificate (no URI ${COORDINATOR_URI})`);
    }
    return undefined;
  }

  private attempt(): void {
    if (this.stopped) return;
    this.attempts++;
    this.setState({ state: 'connecting', attempt: this.attempts });
    const pid = this.participantId;
    const creds = credentials.createFromSecureContext(this.secureContext, {
      checkServerIdentity: (_host, cert) => this.checkCoordinator(cert),
    });
    const client = new Client(this.options.address, creds, this.channelOptions);
    const passThrough = (b: Buffer): Buffer => b;
    const call = client.makeBidiStreamRequest(CONNECT_PATH, passThrough, passThrough, new Metadata());
    this.activeCall = call;
    const sender = new EnvelopeSender(call, this.tuning.chunkBytes, this.tuning.maxEnvelopeBytes, COORDINATOR_ID, this.options.audit);
    const receiver = new EnvelopeReceiver(this.tuning.maxEnvelopeBytes, COORDINATOR_ID, this.options.audit);
    const responder = new RequestResponder(pid, this.options.handler, (e) => sender.send(e), this.logger);
    let welcomed = false;
    let localFailure: string | undefined;
    let ended = false;
    const failLocally = (reason: string): void => {
      localFailure ??= reason;
      call.cancel();
    };
    const welcomeTimeoutMs = this.options.welcomeTimeoutMs ?? 10_000;
    const welcomeTimer = setTimeout(() => failLocally(`no welcome from the coordinator within ${welcomeTimeoutMs} ms`), welcomeTimeoutMs);

    call.on('data', (message: Buffer) => {
      let e: Envelope | undefined;
      try {
        e = receiver.push(message);
      } catch (err) {
        failLocally(`malformed data from the coordinator: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      if (e === undefined) return;
      if (e.sender !== COORDINATOR_ID || e.receiver !== pid) {
        failLocally(`envelope from "${e.sender}" to "${e.receiver}" on the coordinator's stream`);
        return;
      }
      if (!welcomed) {
        if (e.kind !== WELCOME_KIND) {
          failLocally(`first message is "${e.kind}", expected "${WELCOME_KIND}"`);
          return;
        }
        welcomed = true;
        clearTimeout(welcomeTimer);
        this.failuresSinceWelcome = 0;
        this.logger.info('connected to the coordinator', { address: this.options.address });
        this.setState({ state: 'connected' });
        return;
      }
      responder.handle(e);
    });
    // Without an 'error' listener a failed call would throw; 'status' carries the outcome.
    call.on('error', () => {});
    call.on('status', (s: StatusObject) => {
      if (ended) return;
      ended = true;
      clearTimeout(welcomeTimer);
      sender.close();
      responder.stop('connection to the coordinator lost');
      client.close();
      this.activeCall = undefined;
      this.afterCall(s, localFailure, welcomed);
    });
    try {
      sender.send({
        kind: HELLO_KIND,
        correlationId: randomUUID(),
        sender: pid,
        receiver: COORDINATOR_ID,
        jobId: '',
        round: 0,
        header: { protocol: TRANSPORT_PROTOCOL_VERSION },
        tensors: [],
      });
    } catch (err) {
      failLocally(`cannot send hello: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private afterCall(s: StatusObject, localFailure: string | undefined, welcomed: boolean): void {
    if (this.stopped) {
      this.setState({ state: 'closed' });
      return;
    }
    const reason = localFailure ?? `${GrpcStatus[s.code] ?? s.code}: ${s.details}`;
    if (localFailure === undefined && (s.code === GrpcStatus.PERMISSION_DENIED || s.code === GrpcStatus.UNAUTHENTICATED)) {
      this.logger.error(`the coordinator refused this participant: ${s.details}`, { address: this.options.address });
      this.stopped = true;
      this.setState({ state: 'refused', reason: s.details });
      return;
    }
    const delayMs = backoffDelay(this.failuresSinceWelcome, this.options.reconnect ?? {}, () => this.random.next());
    this.failuresSinceWelcome++;
    this.logger.warn(welcomed ? 'disconnected from the coordinator; reconnecting' : 'could not connect to the coordinator; retrying', {
      address: this.options.address,
      reason,
      delayMs,
    });
    this.setState({ state: 'backoff', attempt: this.attempts, delayMs, reason });
    this.retryTimer = setTimeout(() => this.attempt(), delayMs);
  }

  close(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
      if (this.activeCall !== undefined) this.activeCall.cancel();
      else this.setState({ state: 'closed' });
    }
    return this.done.then(() => undefined);
  }
}

/**
 * Connects a participant to the coordinator and keeps it connected until {@link ParticipantConnection.close}.
 * Returns at once; progress is reported through `onState`.
 * @throws ConfigError for an address that is not host:port, a certificate that does not carry
 *   `participantId`, is not from the given CA, does not match the key or has expired, or bad tuning.
 */
export function connectParticipant(options: ConnectParticipantOptions): ParticipantConnection {
  return new Connection(options);
}

