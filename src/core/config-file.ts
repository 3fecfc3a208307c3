/**
 * Reading a JSON configuration file, with errors that name the file and the field.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from './errors.js';

/**
 * Reads `file` as JSON and parses it with `parse`, which gets the file's folder for resolving
 * relative paths. @throws ConfigError prefixed with the file name
 */
export function loadConfigFile<T>(file: string, parse: (json: unknown, base: string) => T): T {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, `cannot read the configuration (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  try {
    return parse(json, dirname(resolve(file)));
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: ${err.field}`, err.message.slice(err.field.length + 2), { cause: err });
    throw err;
  }
}
