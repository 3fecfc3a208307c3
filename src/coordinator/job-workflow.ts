/**
 * What the coordinator's job runner needs from a federation kind: one function that runs (or
 * resumes) a stored job with the connected participants and returns why it stopped. The runner owns
 * the job's lifecycle (created, waiting, running, done or failed); the workflow owns its rounds.
 * Horizontal FL is the first; vertical, transfer and analytics jobs plug in the same way.
 */
import type { TransportLogger } from '../transport/logger.js';
import type { JobEvent } from './horizontal-workflow.js';
import type { ConnectedParticipants } from './link-callers.js';
import type { CoordinatorStore } from './store.js';

/** What a workflow may use. */
export interface WorkflowContext {
  readonly store: CoordinatorStore;
  readonly participants: ConnectedParticipants;
  readonly logger: TransportLogger;
  readonly onEvent?: (e: JobEvent) => void;
}

/** Runs or resumes one stored job to its end. */
export type JobWorkflow = (ctx: WorkflowContext) => Promise<{ readonly stopReason: string }>;
