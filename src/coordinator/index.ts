/** The coordinator: the horizontal workflow, the job runner, durable state, the HTTP API and the service. */
export {
  runHorizontalJob,
  stoppingRule,
  RoundError,
  DEFAULT_MAX_UPDATE_NORM,
  DEFAULT_TIMEOUT_MS,
  type Dropped,
  type JobEvent,
  type JobResult,
  type ResumeState,
  type RoundRecord,
  type WorkflowHooks,
} from './horizontal-workflow.js';
export { horizontalJob } from './horizontal-job.js';
export type { JobWorkflow, WorkflowContext } from './job-workflow.js';
export { checkUpdate } from './update-check.js';
export { ConnectedParticipants, linkCaller } from './link-callers.js';
export { CoordinatorStore, RoundSequenceError, type JobInfo, type JobKind, type JobStatus, type RoundRow, type StoreOptions } from './store.js';
export { applyMigrations, COORDINATOR_MIGRATIONS } from './migrations.js';
export { startHttpApi, type HttpApi, type HttpApiOptions } from './http-api.js';
export { loadCoordinatorConfig, parseCoordinatorConfig, type CoordinatorConfig } from './config.js';
export { startCoordinator, type CoordinatorService } from './coordinator-service.js';
