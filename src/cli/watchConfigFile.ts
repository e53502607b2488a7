import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

/** Options of {@link watchConfigFile}. */
export interface WatchConfigOptions {
  logger: Logger;
  /** Quiet time after the last change before `onChange`, ms: an editor's save is several events. Default 300. */
  settleMs?: number;
}

/** A watch on a config file and the files it refers to. */
export interface ConfigWatch {
  /** Watches this set of files from now on (after a reload: the new config may refer to others). */
  update(files: readonly string[]): void;
  stop(): void;
}

/** One digest of every file's path and content; undefined while one is missing (mid-rename: wait for the next event). */
async function digestOf(files: readonly string[]): Promise<string | undefined> {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) {
    try {
      hash
        .update(file)
        .update('\0')
        .update(await readFile(file))
        .update('\0');
    } catch {
      return undefined;
    }
  }
  return hash.digest('hex');
}

/**
 * Calls `onChange` when the content of the config `file` or of any file it refers to changes
 * (`serve --watch-config`): password files a secrets agent rewrites, a certificate cert-manager
 * renews, the allowlist. It watches directories, not files: editors save by writing a new file
 * and renaming it over the old one, and Kubernetes swaps a mounted Secret or ConfigMap through its
 * `..data` symlink, both of which a watch on the file itself misses. Events are settled
 * (`settleMs`) and compared by one digest of every file's content, so a save is one reload and a
 * touch is none.
 */
export function watchConfigFile(file: string, referenced: readonly string[], onChange: () => void, options: WatchConfigOptions): ConfigWatch {
  const settleMs = options.settleMs ?? 300;
  let files: string[] = [];
  const watchers = new Map<string, FSWatcher>();
  let names = new Map<string, Set<string>>();
  let last: Promise<string | undefined> = Promise.resolve(undefined);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const check = (): void => {
    timer = undefined;
    const current = files;
    last = last.then(async (before) => {
      const now = await digestOf(current);
      if (now === undefined || stopped) return before;
      if (now !== before) onChange();
      return now;
    });
  };
  const onEvent = (dir: string, name: string | null): void => {
    if (name !== null && name !== '..data' && !names.get(dir)?.has(name)) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(check, settleMs);
  };
  const update = (next: readonly string[]): void => {
    files = [...new Set([path.resolve(file), ...next.map((f) => path.resolve(f))])];
    names = new Map();
    for (const f of files) {
      const dir = path.dirname(f);
      if (!names.has(dir)) names.set(dir, new Set());
      names.get(dir)!.add(path.basename(f));
    }
    for (const [dir, watcher] of watchers) {
      if (names.has(dir)) continue;
      watcher.close();
      watchers.delete(dir);
    }
    for (const dir of names.keys()) {
      if (watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => onEvent(dir, name));
        watcher.on('error', (err) => options.logger.error({ dir, err: { message: err.message } }, '--watch-config: watching stopped; SIGHUP still reloads'));
        watchers.set(dir, watcher);
      } catch (err) {
        options.logger.error({ dir, err: { message: (err as Error).message } }, '--watch-config: cannot watch a directory; SIGHUP still reloads');
      }
    }
    // The content now is the one in use: a change from here on is a reload.
    const current = files;
    last = last.then(async (before) => (await digestOf(current)) ?? before);
  };
  update(referenced);
  options.logger.info({ file, files: files.length }, 'watching the config file and the files it refers to: a change reloads it');
  return {
    update,
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
