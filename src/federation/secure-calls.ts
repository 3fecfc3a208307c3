/**
 * How the coordinator reaches participants' secure-aggregation roles, whatever the transport: one
 * function per protocol, from a participant id and a typed request to its typed reply. In-memory
 * simulation calls the role objects; deployment encodes, sends over the participant's link, and
 * validates the reply at the edge.
 */
import type { CkksCall } from './ckks/index.js';
import type { SecAggCall } from './secagg/index.js';

/** The secure-aggregation protocols' callers of a job. */
export interface SecureCalls {
  readonly secAgg: SecAggCall;
  readonly ckks: CkksCall;
}
