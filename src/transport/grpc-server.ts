/**
 * Coordinator side of the gRPC transport: listens for participants over TLS 1.3 with mutual
 * authentication, admits each connection from its certificate (federation CA, validity, revocation
 * list, optional registry), and turns each admitted `Connect` stream into a {@link ParticipantLink}.
 *
 * TLS is terminated by our own `tls.Server` and the verified sockets are handed to grpc-js through
 * its connection injector. That lets the coordinator (a) insist on TLS 1.3, (b) log every refused
 * handshake with its reason, and (c) tell a refused participant why, as the gRPC status of its
 * `Connect` call, before closing the connection. An unverified socket never reaches federation code.
 */
import { once } from 'node:events';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { Server, ServerCredentials, status as GrpcStatus, type ConnectionInjector, type ServerDuplexStream } from '@grpc/grpc-js';
import { ConfigError } from '../core/errors.js';
import { isRecord } from '../core/validate.js';
import type { AuditSink } from './audit.js';
import {
  COORDINATOR_ID,
  ERROR_KIND,
  HELLO_KIND,
  RESERVED_KIND_PREFIX,
  WELCOME_KIND,
  type CoordinatorTransport,
  type ParticipantLink,
} from './channel.js';
import { CoordinatorLink } from './coordinator-link.js';
import { EnvelopeReceiver, EnvelopeSender } from './envelope-stream.js';
import { TransportError } from './errors.js';
import { DEFAULT_MAX_ENVELOPE_BYTES } from './frame.js';
import { connectMethod, grpcOptions, resolveTuning, TRANSPORT_PROTOCOL_VERSION, type LinkTuning, type ResolvedTuning } from './grpc-service.js';
import { admitParticipant, checkOwnTlsMaterial, type Admission, type CertificateIdentity, type TlsPeerFacts } from './identity.js';
import { LinkRegistry } from './link-registry.js';
import { stderrLogger, type TransportLogger } from './logger.js';
import type { TlsMaterial } from './pki.js';
import { EMPTY_REVOCATION_LIST, RevocationFile, type RevocationList } from './revocation.js';

/** Options of {@link startCoordinatorServer}. */
export interface CoordinatorServerOptions extends LinkTuning {
  /** Interface to listen on (default 127.0.0.1; use 0.0.0.0 or :: to accept remote participants). */
  readonly host?: string;
  /** TCP port; 0 picks a free one (see {@link GrpcCoordinatorTransport.port}). */
  readonly port: number;
  /** The coordinator's certificate and key, and the federation CA that participants' certificates must chain to. */
  readonly tls: TlsMaterial;
  /** Path of the revocation list (`revoked.json`); re-read whenever it changes. */
  readonly revocationFile?: string;
  /** Extra admission rule, e.g. "is registered in the coordinator's database". */
  readonly allowParticipant?: (participantId: string) => boolean;
  /** How long an admitted connection may take to say hello (default 10 s). */
  readonly helloTimeoutMs?: number;
  /** How often the revocation list is checked for changes that drop connected participants (default 2 s). */
  readonly revocationPollMs?: number;
  readonly logger?: TransportLogger;
  /** Record of every envelope sent or received, as encoded on the wire. */
  readonly audit?: AuditSink;
  /** Clock for certificate validity checks (tests). */
  readonly now?: () => Date;
}

interface StreamSession {
  readonly identity: CertificateIdentity;
  link: CoordinatorLink | undefined;
  finish(error: TransportError, status?: { code: GrpcStatus; details: string }): void;
}

/** Grace given to a refused connection to read its gRPC status before the socket is destroyed. */
const REFUSAL_GRACE_MS = 2_000;
/** Grace given to open streams to flush their final status on close. */
const CLOSE_GRACE_MS = 300;

function authorizationCode(socket: TLSSocket): string | undefined {
  // Node reports the OpenSSL verification code as a string on server sockets, although typed as Error.
  const ae: unknown = socket.authorizationError;
  if (typeof ae === 'string') return ae;
  if (ae instanceof Error) return 'code' in ae && typeof ae.code === 'string' ? ae.code : ae.message;
  return undefined;
}

function endWithStatus(call: ServerDuplexStream<Buffer, Buffer>, code: GrpcStatus, details: string): void {
  // grpc-js turns an 'error' event on a server stream into the call's final status.
  call.emit('error', Object.assign(new Error(details), { code, details }));
}

function checkOwnCertificate(tls: TlsMaterial): CertificateIdentity {
  const identity = checkOwnTlsMaterial(tls);
  if (identity.role !== 'coordinator') throw new ConfigError('tls.certPem', `certificate belongs to participant "${identity.id}", not the coordinator`);
  return identity;
}

/** The coordinator's gRPC/TLS transport. Create it with {@link startCoordinatorServer}. */
export class GrpcCoordinatorTransport implements CoordinatorTransport {
  private readonly registry: LinkRegistry;
  private readonly verdicts = new Map<string, Admission>();
  private readonly sockets = new Set<TLSSocket>();
  private readonly sessions = new Set<StreamSession>();
  private readonly grpcServer: Server;
  private readonly injector: ConnectionInjector;
  private readonly tlsServer: TlsServer;
  private readonly revocations: RevocationFile | undefined;
  private readonly tuning: ResolvedTuning;
  private readonly logger: TransportLogger;
  private readonly now: () => Date;
  private pollTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private boundPort = 0;

  /** @internal use {@link startCoordinatorServer}. */
  constructor(private readonly options: CoordinatorServerOptions) {
    this.logger = options.logger ?? stderrLogger('edufed coordinator');
    this.registry = new LinkRegistry(this.logger);
    this.tuning = resolveTuning(options, DEFAULT_MAX_ENVELOPE_BYTES);
    this.now = options.now ?? (() => new Date());
    checkOwnCertificate(options.tls);
    this.revocations = options.revocationFile !== undefined ? new RevocationFile(options.revocationFile) : undefined;
    this.grpcServer = new Server({ ...grpcOptions(this.tuning), 'grpc.max_concurrent_streams': 4 });
    this.grpcServer.addService({ Connect: connectMethod }, { Connect: (call: ServerDuplexStream<Buffer, Buffer>) => this.onCall(call) });
    this.injector = this.grpcServer.createConnectionInjector(ServerCredentials.createInsecure());
    this.tlsServer = createTlsServer({
      ca: options.tls.caCertPem,
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      minVersion: 'TLSv1.3',
      ALPNProtocols: ['h2'],
      requestCert: true,
      // Verification failures are judged (and explained to the peer) by admitParticipant, not by a bare handshake abort.
      rejectUnauthorized: false,
    });
    this.tlsServer.on('secureConnection', (socket: TLSSocket) => this.onSecureConnection(socket));
    this.tlsServer.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      this.logger.warn('TLS handshake with a participant failed', { remote: `${socket.remoteAddress}:${socket.remotePort}`, error: err.message });
    });
  }

  /** The TCP port listened on. */
  get port(): number {
    return this.boundPort;
  }

  /** `host:port` participants can dial (with the configured host). */
  get address(): string {
    const host = this.options.host ?? '127.0.0.1';
    return `${host.includes(':') ? `[${host}]` : host}:${this.boundPort}`;
  }

  /** @internal */
  async listen(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.tlsServer.off('listening', onListening);
        reject(new ConfigError('port', `cannot listen on ${host}:${this.options.port} (${err.message})`, { cause: err }));
      };
      const onListening = (): void => {
        this.tlsServer.off('error', onError);
        resolve();
      };
      this.tlsServer.once('error', onError);
      this.tlsServer.once('listening', onListening);
      this.tlsServer.listen(this.options.port, host);
    });
    this.tlsServer.on('error', (err) => this.logger.error('listener error', { error: err.message }));
    const addr = this.tlsServer.address();
    this.boundPort = typeof addr === 'object' && addr !== null ? addr.port : this.options.port;
    const pollMs = this.options.revocationPollMs ?? 2_000;
    if (this.revocations !== undefined) {
      this.pollTimer = setInterval(() => this.recheckRevocations(), pollMs);
      this.pollTimer.unref();
    }
    this.logger.info('coordinator listening', { address: this.address });
  }

  onConnect(cb: (link: ParticipantLink) => void): void {
    this.registry.onConnect(cb);
  }

  onDisconnect(cb: (participantId: string, reason: string) => void): void {
    this.registry.onDisconnect(cb);
  }

  /** The links connected now. */
  connectedLinks(): ParticipantLink[] {
    return this.registry.all();
  }

  private currentRevocations(): RevocationList {
    return this.revocations?.current() ?? EMPTY_REVOCATION_LIST;
  }

  private onSecureConnection(socket: TLSSocket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.on('error', (err) => this.logger.warn('participant connection error', { remote, error: err.message }));
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.verdicts.delete(remote);
    });
    const facts: TlsPeerFacts = {
      authorized: socket.authorized,
      authorizationError: authorizationCode(socket),
      certificate: socket.getPeerX509Certificate(),
    };
    let verdict: Admission;
    try {
      verdict = admitParticipant(facts, { revocations: this.currentRevocations(), now: this.now(), allow: this.options.allowParticipant });
    } catch (err) {
      // An unreadable revocation list refuses everyone until fixed: never trust a list we cannot read.
      const reason = `revocation list unreadable (${err instanceof Error ? err.message : String(err)})`;
      this.logger.error('refusing connections', { reason });
      verdict = { ok: false, status: 'permission-denied', reason, participantId: undefined };
    }
    this.verdicts.set(remote, verdict);
    if (!verdict.ok) {
      this.logger.warn(`refused participant connection: ${verdict.reason}`, {
        remote,
        participant: verdict.participantId,
        serial: facts.certificate?.serialNumber,
      });
      setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
    }
    this.injector.injectConnection(socket);
  }

  private onCall(call: ServerDuplexStream<Buffer, Buffer>): void {
    const remote = call.getPeer();
    const verdict = this.verdicts.get(remote);
    if (this.closing !== undefined) {
      endWithStatus(call, GrpcStatus.UNAVAILABLE, 'coordinator is shutting down');
      return;
    }
    if (verdict === undefined) {
      endWithStatus(call, GrpcStatus.UNAUTHENTICATED, 'coordinator refused the stream: its connection was not admitted');
      return;
    }
    if (!verdict.ok) {
      const who = verdict.participantId !== undefined ? `participant "${verdict.participantId}"` : 'the participant';
      const code = verdict.status === 'unauthenticated' ? GrpcStatus.UNAUTHENTICATED : GrpcStatus.PERMISSION_DENIED;
      endWithStatus(call, code, `coordinator refused ${who}: ${verdict.reason}`);
      return;
    }
    const identity = verdict.identity;
    // The stream must run on the very TLS session that was admitted.
    if (call.getAuthContext().sslPeerCertificate?.fingerprint256 !== identity.fingerprint256) {
      this.logger.error('refused a stream whose TLS certificate does not match its admitted connection', { remote, participant: identity.id });
      endWithStatus(call, GrpcStatus.UNAUTHENTICATED, 'coordinator refused the stream: certificate mismatch');
      return;
    }
    this.serve(call, identity, remote);
  }

  private serve(call: ServerDuplexStream<Buffer, Buffer>, identity: CertificateIdentity, remote: string): void {
    const pid = identity.id;
    const sender = new EnvelopeSender(call, this.tuning.chunkBytes, this.tuning.maxEnvelopeBytes, pid, this.options.audit);
    const receiver = new EnvelopeReceiver(this.tuning.maxEnvelopeBytes, pid, this.options.audit);
    let finished = false;
    const session: StreamSession = {
      identity,
      link: undefined,
      finish: (error, status) => {
        if (finished) return;
        finished = true;
        clearTimeout(helloTimer);
        sender.close();
        this.sessions.delete(session);
        if (session.link !== undefined) {
          this.registry.remove(session.link, error);
          this.logger.info('participant disconnected', { participant: pid, remote, reason: error.message });
        }
        if (status !== undefined) endWithStatus(call, status.code, status.details);
        else call.end();
      },
    };
    this.sessions.add(session);
    const refuse = (code: GrpcStatus, reason: TransportError['reason'], details: string): void => {
      this.logger.warn(`refused message from participant "${pid}": ${details}`, { remote, serial: identity.serial });
      session.finish(new TransportError(reason, details, { participant: pid }), {
        code,
        details: `coordinator refused participant "${pid}": ${details}`,
      });
    };
    const helloTimeoutMs = this.options.helloTimeoutMs ?? 10_000;
    const helloTimer = setTimeout(
      () => refuse(GrpcStatus.DEADLINE_EXCEEDED, 'protocol', `no hello within ${helloTimeoutMs} ms`),
      helloTimeoutMs,
    );

    call.on('data', (message: Buffer) => {
      if (finished) return;
      let e;
      try {
        e = receiver.push(message);
      } catch (err) {
        const te = err instanceof TransportError ? err : new TransportError('protocol', String(err), { participant: pid, cause: err });
        refuse(te.reason === 'too-large' ? GrpcStatus.RESOURCE_EXHAUSTED : GrpcStatus.INVALID_ARGUMENT, te.reason, te.message);
        return;
      }
      if (e === undefined) return;
      if (e.sender !== pid) {
        refuse(GrpcStatus.PERMISSION_DENIED, 'refused', `envelope claims sender "${e.sender}" but the certificate identifies "${pid}"`);
        return;
      }
      if (e.receiver !== COORDINATOR_ID) {
        refuse(GrpcStatus.INVALID_ARGUMENT, 'protocol', `envelope addressed to "${e.receiver}", not "${COORDINATOR_ID}"`);
        return;
      }
      if (session.link === undefined) {
        const version = isRecord(e.header) ? e.header['protocol'] : undefined;
        if (e.kind !== HELLO_KIND) {
          refuse(GrpcStatus.INVALID_ARGUMENT, 'protocol', `first message is "${e.kind}", expected "${HELLO_KIND}"`);
        } else if (version !== TRANSPORT_PROTOCOL_VERSION) {
          refuse(GrpcStatus.FAILED_PRECONDITION, 'protocol', `unsupported transport protocol ${String(version)} (this coordinator speaks ${TRANSPORT_PROTOCOL_VERSION})`);
        } else {
          clearTimeout(helloTimer);
          const link = new CoordinatorLink(pid, (env) => sender.send(env));
          session.link = link;
          sender.send({
            kind: WELCOME_KIND,
            correlationId: e.correlationId,
            sender: COORDINATOR_ID,
            receiver: pid,
            jobId: '',
            round: 0,
            header: { protocol: TRANSPORT_PROTOCOL_VERSION },
            tensors: [],
          });
          this.logger.info('participant connected', { participant: pid, remote, serial: identity.serial });
          this.registry.add(link);
        }
        return;
      }
      if (e.kind.startsWith(RESERVED_KIND_PREFIX) && e.kind !== ERROR_KIND) {
        refuse(GrpcStatus.INVALID_ARGUMENT, 'protocol', `unexpected transport message "${e.kind}"`);
        return;
      }
      if (!session.link.deliver(e)) {
        this.logger.warn('dropped an answer no request is waiting for (late, duplicated or replayed)', {
          participant: pid,
          kind: e.kind,
          correlationId: e.correlationId,
        });
      }
    });
    call.on('end', () => session.finish(new TransportError('disconnected', 'the participant closed its stream', { participant: pid })));
    call.on('cancelled', () => session.finish(new TransportError('disconnected', 'connection lost', { participant: pid })));
    call.on('error', (err: Error) =>
      session.finish(new TransportError('disconnected', `stream error: ${err.message}`, { participant: pid, cause: err })),
    );
  }

  private recheckRevocations(): void {
    let list: RevocationList;
    try {
      list = this.currentRevocations();
    } catch (err) {
      this.logger.error('revocation list unreadable; new connections are refused until it is fixed', {
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    for (const s of [...this.sessions]) {
      const entry = list.find(s.identity.serial);
      if (entry === undefined) continue;
      const details = `certificate serial ${s.identity.serial} was revoked on ${entry.revokedAt} (reason: ${entry.reason})`;
      this.logger.warn(`dropping participant "${s.identity.id}": ${details}`);
      s.finish(new TransportError('refused', details, { participant: s.identity.id }), {
        code: GrpcStatus.PERMISSION_DENIED,
        details: `coordinator refused participant "${s.identity.id}": ${details}`,
      });
    }
  }

  /** Disconnects every participant (pending requests reject with `closed`) and stops listening. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    for (const s of [...this.sessions]) {
      s.finish(new TransportError('closed', 'the coordinator is shutting down', { participant: s.identity.id }), {
        code: GrpcStatus.UNAVAILABLE,
        details: 'coordinator is shutting down',
      });
    }
    const closed = this.tlsServer.listening ? once(this.tlsServer, 'close') : Promise.resolve();
    this.tlsServer.close();
    this.injector.drain(CLOSE_GRACE_MS);
    const hardStop = setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, CLOSE_GRACE_MS + 50);
    await closed;
    clearTimeout(hardStop);
    this.injector.destroy();
    this.grpcServer.forceShutdown();
    this.logger.info('coordinator transport closed');
  }
}

/**
 * Starts the coordinator's transport and resolves once it listens.
 * @throws ConfigError for a certificate that is not the coordinator's or not from the given CA, a
 *   key that does not match, an unreadable revocation list, inconsistent tuning, or a port in use.
 */
export async function startCoordinatorServer(options: CoordinatorServerOptions): Promise<GrpcCoordinatorTransport> {
  const transport = new GrpcCoordinatorTransport(options);
  await transport.listen();
  return transport;
}
