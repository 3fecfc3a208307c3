/**
 * Locating the project's own files (embedded datasets) at run time, wherever the compiled code lives.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

function isEduFedRoot(dir: string): boolean {
  const pkg = join(dir, 'package.json');
  if (!existsSync(pkg)) return false;
  try {
    const parsed: unknown = JSON.parse(readFileSync(pkg, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && 'name' in parsed && parsed.name === 'edufed';
  } catch {
    return false;
  }
}

/** The folder holding EduFed's package.json: found from this module's location, else the working directory's ancestors. */
export function projectRoot(): string {
  if (cached !== undefined) return cached;
  for (const start of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    let dir = resolve(start);
    for (;;) {
      if (isEduFedRoot(dir)) {
        cached = dir;
        return dir;
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  cached = process.cwd();
  return cached;
}
