/**
 * How the coordinator reaches one participant in a horizontal job, whatever the transport: a
 * function from a request to the reply. Transports adapt to this (in-memory: a direct call to the
 * role object; gRPC: envelope encoding plus validation at the edge).
 */
import type { HorizontalReply, HorizontalRequest } from './protocol.js';

/** Sends one request to one participant and resolves with its validated reply. Rejects on timeout or disconnect. */
export type ParticipantCaller = (req: HorizontalRequest, options: { timeoutMs: number; round: number }) => Promise<HorizontalReply>;

/** The participants of a job, by id. */
export type ParticipantCallers = ReadonlyMap<string, ParticipantCaller>;
