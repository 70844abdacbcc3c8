import { closeSync, openSync, statSync } from 'node:fs';

/** Creates `file` empty with mode 0600 (owner only) unless it exists; an existing file keeps its mode. */
export function createPrivateFile(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** A file or directory that group or others may use, and the command that closes it. */
export interface Exposure {
  path: string;
  /** Its permission bits, e.g. 0o644. */
  mode: number;
  fix: string;
}

/**
 * Which of `paths` that exist give group or others any access (read, write or search). Such
 * modes are only reported, never changed: an operator may have chosen them (a backup group).
 * Directories are fixed with 700, files with 600. Always empty on Windows, which has no modes.
 */
export function exposedPaths(paths: string[]): Exposure[] {
  if (process.platform === 'win32') return [];
  const exposed: Exposure[] = [];
  for (const path of paths) {
    let stats;
    try {
      stats = statSync(path);
    } catch {
      continue;
    }
    const mode = stats.mode & 0o777;
    if ((mode & 0o077) !== 0) exposed.push({ path, mode, fix: `chmod ${stats.isDirectory() ? 700 : 600} ${path}` });
  }
  return exposed;
}
