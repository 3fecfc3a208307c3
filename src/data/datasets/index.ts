/**
 * Embedded public datasets, built at run time into a raw table plus the schema that types it.
 */
export { buildOulad, ouladAttribution, OULAD_CLASSES, OULAD_DEFAULT_CUTOFF_DAY, OULAD_PARTITIONS } from './oulad.js';
export type { OuladData, OuladLabel, OuladOptions, OuladTask } from './oulad.js';
