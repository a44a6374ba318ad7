// File-system helpers that behave the same on Windows and Linux.
import * as fs from 'node:fs'
import * as path from 'node:path'

/**
 * Creates a directory and its missing parents, one level at a time. Node's recursive mkdir
 * loops forever on some paths (a directory under /proc: ENOENT after the parent exists); this
 * fails with the first error instead. Throws ENOTDIR (with the path) when something on the way
 * is a file.
 */
export function ensureDir(dir: string): void {
  const missing: string[] = []
  let cur = path.resolve(dir)
  for (;;) {
    let st: fs.Stats | undefined
    try {
      st = fs.statSync(cur)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOTDIR') throw Object.assign(new Error(`a parent of ${cur} is a file, not a directory`), {code, path: cur})
      if (code !== 'ENOENT') throw error
    }
    if (st !== undefined) {
      if (!st.isDirectory()) throw Object.assign(new Error(`${cur} exists and is not a directory`), {code: 'ENOTDIR', path: cur})
      break
    }
    missing.push(cur)
    const parent = path.dirname(cur)
    if (parent === cur) break
    cur = parent
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      fs.mkdirSync(missing[i])
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(missing[i]).isDirectory()) continue
      throw error
    }
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4))

/**
 * How long to wait before renaming again after `error` (attempt counts from 0); throws the
 * error when it is not one a moment's wait can cure. On Windows a virus scanner or indexer may
 * hold a just-written or just-closed file for a moment (EPERM/EACCES/EBUSY).
 */
function renameRetryDelay(error: unknown, attempt: number, attempts: number, stepMs: number): number {
  const code = (error as NodeJS.ErrnoException).code
  if (attempt >= attempts || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) throw error
  return stepMs * (attempt + 1)
}

/**
 * renameSync that retries briefly on EPERM/EACCES/EBUSY. For the few synchronous renames
 * (checkpoints, meta.properties, compaction swaps); directory renames use renameWithRetry.
 */
export function renameSyncWithRetry(from: string, to: string, attempts = 10): void {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.renameSync(from, to)
      return
    } catch (error) {
      Atomics.wait(pause, 0, 0, renameRetryDelay(error, attempt, attempts, 10))
    }
  }
}

/** Renames, retrying briefly on EPERM/EACCES/EBUSY without blocking; a missing source is not an error. */
export async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.renameSync(from, to)
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      const ms = renameRetryDelay(error, attempt, 10, 20)
      await new Promise(r => setTimeout(r, ms))
    }
  }
}

/**
 * Runs fn over items with at most `limit` running at once (file work that waits on the disk:
 * libuv's thread pool runs several fsyncs while the event loop goes on). Resolves when all have
 * settled; a failure does not stop the others (fn handles its own errors).
 */
export async function eachLimit<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]()
  const worker = async (): Promise<void> => {
    for (let n = it.next(); !n.done; n = it.next()) await fn(n.value)
  }
  await Promise.all(Array.from({length: Math.max(1, limit)}, worker))
}
