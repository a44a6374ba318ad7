// Watches: standard one-shot data/exist and child watches, persistent and
// persistent-recursive watches (addWatch), with a per-watcher index so a closed
// connection drops all of its watches at once.
import {EventType} from './records.js'

export interface Watcher {
  /** Delivers one event (path, type) to the client behind this watcher. */
  notify(path: string, type: number): void
  /** The watcher's own registrations, kept by the manager. */
  watchIndex: WatchIndex
}

export class WatchIndex {
  data = new Set<string>()
  child = new Set<string>()
  persistent = new Set<string>()
  recursive = new Set<string>()
  size(): number {
    return this.data.size + this.child.size + this.persistent.size + this.recursive.size
  }
}

export const WatcherType = {Children: 1, Data: 2, Any: 3} as const

type Table = Map<string, Set<Watcher>>

function add(t: Table, path: string, w: Watcher): boolean {
  let s = t.get(path)
  if (!s) t.set(path, (s = new Set()))
  const had = s.has(w)
  s.add(w)
  return !had
}

function del(t: Table, path: string, w: Watcher): boolean {
  const s = t.get(path)
  if (!s || !s.delete(w)) return false
  if (s.size === 0) t.delete(path)
  return true
}

export class WatchManager {
  readonly data: Table = new Map()
  readonly child: Table = new Map()
  readonly persistent: Table = new Map()
  readonly recursive: Table = new Map()
  private readonly seen = new Set<Watcher>()

  addData(path: string, w: Watcher): void {
    if (add(this.data, path, w)) w.watchIndex.data.add(path)
  }

  addChild(path: string, w: Watcher): void {
    if (add(this.child, path, w)) w.watchIndex.child.add(path)
  }

  addPersistent(path: string, w: Watcher, recursive: boolean): void {
    if (recursive) {
      if (add(this.recursive, path, w)) w.watchIndex.recursive.add(path)
    } else if (add(this.persistent, path, w)) w.watchIndex.persistent.add(path)
  }

  /** Fires the watches an event on path triggers (DataTree's trigger rules). */
  trigger(path: string, type: number): void {
    const seen = this.seen
    seen.clear()
    const fire = (w: Watcher) => {
      if (seen.has(w)) return
      seen.add(w)
      w.notify(path, type)
    }
    if (type === EventType.NodeChildrenChanged) {
      const s = this.child.get(path)
      if (s) {
        this.child.delete(path)
        for (const w of s) { w.watchIndex.child.delete(path); fire(w) }
      }
    } else {
      const s = this.data.get(path)
      if (s) {
        this.data.delete(path)
        for (const w of s) { w.watchIndex.data.delete(path); fire(w) }
      }
      if (type === EventType.NodeDeleted) {
        const c = this.child.get(path)
        if (c) {
          this.child.delete(path)
          for (const w of c) { w.watchIndex.child.delete(path); fire(w) }
        }
      }
    }
    const p = this.persistent.get(path)
    if (p) for (const w of p) fire(w)
    if (type !== EventType.NodeChildrenChanged && this.recursive.size > 0) {
      let q = path
      for (;;) {
        const r = this.recursive.get(q)
        if (r) for (const w of r) fire(w)
        if (q === '/') break
        const i = q.lastIndexOf('/')
        q = i <= 0 ? '/' : q.slice(0, i)
      }
    }
  }

  /** Whether w has a watch of the given type on path (checkWatches / removeWatches). */
  has(path: string, type: number, w: Watcher): boolean {
    const i = w.watchIndex
    const data = i.data.has(path) || i.persistent.has(path) || i.recursive.has(path)
    const child = i.child.has(path) || i.persistent.has(path) || i.recursive.has(path)
    if (type === WatcherType.Data) return data
    if (type === WatcherType.Children) return child
    return data || child
  }

  /** Removes w's watches of the given type on path; true when something was removed. */
  remove(path: string, type: number, w: Watcher): boolean {
    let removed = false
    const i = w.watchIndex
    if (type === WatcherType.Data || type === WatcherType.Any) {
      if (del(this.data, path, w)) { i.data.delete(path); removed = true }
    }
    if (type === WatcherType.Children || type === WatcherType.Any) {
      if (del(this.child, path, w)) { i.child.delete(path); removed = true }
    }
    if (type === WatcherType.Any || type === WatcherType.Data || type === WatcherType.Children) {
      if (del(this.persistent, path, w)) { i.persistent.delete(path); removed = true }
      if (del(this.recursive, path, w)) { i.recursive.delete(path); removed = true }
    }
    return removed
  }

  /** Drops every watch of a watcher (its connection closed). */
  removeWatcher(w: Watcher): void {
    const i = w.watchIndex
    for (const p of i.data) del(this.data, p, w)
    for (const p of i.child) del(this.child, p, w)
    for (const p of i.persistent) del(this.persistent, p, w)
    for (const p of i.recursive) del(this.recursive, p, w)
    w.watchIndex = new WatchIndex()
  }

  count(): number {
    let n = 0
    for (const t of [this.data, this.child, this.persistent, this.recursive]) for (const s of t.values()) n += s.size
    return n
  }

  paths(): number {
    const all = new Set<string>()
    for (const t of [this.data, this.child, this.persistent, this.recursive]) for (const k of t.keys()) all.add(k)
    return all.size
  }
}
