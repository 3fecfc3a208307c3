/**
 * A hook that sees every envelope crossing a link, as encoded on the wire, so the coordinator's
 * audit log and a participant's ledger can record kind, sender, receiver, round, size and SHA-256
 * of exactly the bytes that were sent or received.
 */
import { createHash } from 'node:crypto';
import type { Envelope } from './envelope.js';

/** One envelope that crossed a link. */
export interface MessageRecord {
  readonly direction: 'sent' | 'received';
  /** The other side: a participant id on the coordinator, `coordinator` on a participant. */
  readonly peer: string;
  readonly kind: string;
  readonly correlationId: string;
  readonly sender: string;
  readonly receiver: string;
  readonly jobId: string;
  readonly round: number;
  /** Size of the encoded envelope in bytes. */
  readonly bytes: number;
  /** SHA-256 of the encoded envelope, lowercase hex. */
  readonly sha256: string;
  /** Milliseconds since the epoch when the envelope was sent or fully received. */
  readonly at: number;
}

/** Receives {@link MessageRecord}s; called synchronously, so it must be quick and must not throw. */
export type AuditSink = (record: MessageRecord) => void;

/** Builds the record of one envelope from its wire size and the SHA-256 of its wire bytes (hex). */
export function recordOf(direction: 'sent' | 'received', peer: string, e: Envelope, bytes: number, sha256: string): MessageRecord {
  return {
    direction,
    peer,
    kind: e.kind,
    correlationId: e.correlationId,
    sender: e.sender,
    receiver: e.receiver,
    jobId: e.jobId,
    round: e.round,
    bytes,
    sha256,
    at: Date.now(),
  };
}

/** Builds the record of one encoded envelope. */
export function messageRecord(direction: 'sent' | 'received', peer: string, e: Envelope, encoded: Uint8Array): MessageRecord {
  return recordOf(direction, peer, e, encoded.length, createHash('sha256').update(encoded).digest('hex'));
}
