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

async function digestOf(file: string): Promise<string | undefined> {
  try {
    return createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * Calls `onChange` when the content of `file` changes (`serve --watch-config`). It watches the
 * directory, not the file: editors save by writing a new file and renaming it over the old one,
 * and Kubernetes swaps a mounted ConfigMap through its `..data` symlink, both of which a watch on
 * the file itself misses. Events are settled (`settleMs`) and compared by content digest, so a
 * save is one reload and a touch is none. A file that is missing for a moment (mid-rename) waits
 * for the next event. Returns the stop function.
 */
export function watchConfigFile(file: string, onChange: () => void, options: WatchConfigOptions): () => void {
  const dir = path.dirname(path.resolve(file));
  const base = path.basename(file);
  const settleMs = options.settleMs ?? 300;
  let last: Promise<string | undefined> = digestOf(file);
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    timer = undefined;
    last = last.then(async (before) => {
      const now = await digestOf(file);
      if (now === undefined) return before;
      if (now !== before) onChange();
      return now;
    });
  };
  let watcher: FSWatcher;
  try {
    watcher = watch(dir, { persistent: false }, (_event, name) => {
      if (name !== null && name !== base && name !== '..data') return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(check, settleMs);
    });
  } catch (err) {
    options.logger.error({ dir, err: { message: (err as Error).message } }, '--watch-config: cannot watch the config directory; SIGHUP still reloads');
    return () => undefined;
  }
  watcher.on('error', (err) => options.logger.error({ dir, err: { message: err.message } }, '--watch-config: watching stopped; SIGHUP still reloads'));
  options.logger.info({ file }, 'watching the config file: a change reloads it');
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    watcher.close();
  };
}
