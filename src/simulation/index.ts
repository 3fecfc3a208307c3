/** Simulation: every role in one process, partitioning, and the honest-accuracy comparison. */
export { simulateHorizontal, type SimulationOptions, type SimulationResult } from './simulate.js';
export { partitionRaw, type PartitionSpec, type RawPart } from './partition-raw.js';
export { compareModels, METRIC_NAMES, type Comparison, type MetricName, type ParticipantComparison, type ParticipantEvalData } from './report.js';
