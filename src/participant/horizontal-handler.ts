/**
 * Serves a {@link HorizontalParticipant} over a transport: decodes and validates each request at
 * the edge, lets the role object answer, and encodes the reply.
 */
import { decodeRequest, encodeReply, KIND_PREFIX } from '../federation/horizontal/codec.js';
import type { Envelope, EnvelopeBody, RequestHandler } from '../transport/channel.js';
import { EduFedError } from '../core/errors.js';
import type { HorizontalParticipant } from './horizontal-participant.js';

/** A transport request handler answering horizontal-protocol requests with `participant`. */
export function horizontalHandler(participant: HorizontalParticipant): RequestHandler {
  return async (e: Envelope): Promise<EnvelopeBody> => {
    if (!e.kind.startsWith(KIND_PREFIX)) throw new EduFedError('PROTOCOL', `participant "${participant.id}" does not serve "${e.kind}" requests`);
    const req = decodeRequest(e);
    const reply = await participant.handle(e.jobId, req);
    return encodeReply(e.jobId, e.round, reply);
  };
}
