/**
 * Typed errors. Every error EduFed throws on purpose is an {@link EduFedError} with a stable
 * `code`, so callers (and the coordinator, when a participant reports a failure as a value) can
 * branch on the kind of failure rather than on message text.
 */

/** Where in a data source a problem was found; every field is optional but as many as known are set. */
export interface DataLocation {
  readonly file?: string;
  /** 1-based data row number (the header is row 0 for CSV files). */
  readonly row?: number;
  readonly column?: string;
}

export type ErrorCode =
  | 'DATA'
  | 'SCHEMA'
  | 'CONFIG'
  | 'MODEL'
  | 'STRATEGY'
  | 'PROTOCOL'
  | 'VALIDATION'
  | 'PARTICIPANT'
  | 'ROUND'
  | 'INTERNAL';

/** Base class of every deliberate EduFed error. */
export class EduFedError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EduFedError';
    this.code = code;
  }
}

function locate(loc: DataLocation): string {
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(loc.file);
  if (loc.row !== undefined) parts.push(`row ${loc.row}`);
  if (loc.column !== undefined) parts.push(`column "${loc.column}"`);
  return parts.join(', ');
}

/** Bad input data: a malformed file, a missing column, a non-number in a numeric column, ... */
export class DataError extends EduFedError {
  readonly location: DataLocation;
  constructor(location: DataLocation, message: string, options?: { cause?: unknown }) {
    const where = locate(location);
    super('DATA', where.length > 0 ? `${where}: ${message}` : message, options);
    this.name = 'DataError';
    this.location = location;
  }
}

/** A schema file that is itself invalid, or a table that does not match its schema. */
export class SchemaError extends EduFedError {
  readonly location: DataLocation;
  constructor(location: DataLocation, message: string, options?: { cause?: unknown }) {
    const where = locate(location);
    super('SCHEMA', where.length > 0 ? `${where}: ${message}` : message, options);
    this.name = 'SchemaError';
    this.location = location;
  }
}

/** An invalid configuration value (CLI flag, config file, hyper-parameter). */
export class ConfigError extends EduFedError {
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('CONFIG', `${field}: ${message}`, options);
    this.name = 'ConfigError';
    this.field = field;
  }
}

/** An update or message that failed validation (NaN, wrong shape, absurd norm, unknown sender). */
export class ValidationError extends EduFedError {
  readonly participant: string | undefined;
  constructor(participant: string | undefined, message: string, options?: { cause?: unknown }) {
    super('VALIDATION', participant !== undefined ? `participant "${participant}": ${message}` : message, options);
    this.name = 'ValidationError';
    this.participant = participant;
  }
}

/** Plain-data form of an error, for sending a participant's failure back as a value. */
export interface ErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
}

/** Converts anything thrown into an {@link ErrorInfo}. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof EduFedError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: 'INTERNAL', message: err.message };
  return { code: 'INTERNAL', message: String(err) };
}
