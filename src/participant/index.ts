/** The participant: the role object, its transport handler, data sources, policy, ledger, configuration and service. */
export { HorizontalParticipant, type HorizontalParticipantOptions } from './horizontal-participant.js';
export { horizontalHandler } from './horizontal-handler.js';
export { loadDataSource, type DataSourceConfig, type RowFilter } from './data-source.js';
export { checkPolicy, PolicyError, type ParticipantPolicy } from './policy.js';
export { ParticipantLedger } from './ledger.js';
export { loadParticipantConfig, parseParticipantConfig, type ParticipantConfig } from './config.js';
export { startParticipant, type ParticipantService } from './participant-service.js';
