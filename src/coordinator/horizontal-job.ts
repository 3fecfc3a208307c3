/**
 * The horizontal workflow as a stored job: resumes from the last checkpoint, checkpoints every
 * completed round in one transaction (round row + global model + strategy state), flags
 * participants whose updates were refused.
 */
import type { HorizontalJobConfig } from '../federation/horizontal/job-config.js';
import { runHorizontalJob, type JobResult } from './horizontal-workflow.js';
import type { JobWorkflow, WorkflowContext } from './job-workflow.js';

/** A stored horizontal job as a {@link JobWorkflow}; `onResult` receives the in-memory result. */
export function horizontalJob(job: HorizontalJobConfig, onResult?: (r: JobResult) => void): JobWorkflow {
  return async ({ store, participants, logger, onEvent }: WorkflowContext) => {
    const resume = store.loadResume(job.jobId);
    if (resume !== undefined) logger.info('resuming job from its last completed round', { job: job.jobId, round: resume.round });
    let encoderSaved = resume !== undefined;
    const result = await runHorizontalJob(job, () => participants.callers(job.jobId), {
      ...(onEvent !== undefined ? { onEvent } : {}),
      ...(resume !== undefined ? { resume } : {}),
      secureCalls: participants.secureCalls(job.jobId),
      onRoundComplete: (record, params, strategy, encoder) => {
        if (!encoderSaved) {
          store.saveEncoder(job.jobId, encoder);
          encoderSaved = true;
        }
        store.completeRound(job.jobId, record, params, strategy.state());
        for (const d of record.dropped) if (d.flagged) store.flagParticipant(d.participantId, job.jobId, record.round, d.reason);
      },
    });
    onResult?.(result);
    return { stopReason: result.stopReason };
  };
}
