// Per-namespace read and write byte counts, the `<ns>_read_per_namespace` and
// `<ns>_write_per_namespace` summaries of Apache ZooKeeper's mntr. A namespace is a path's first
// component ("/kafka/brokers" → "kafka"; "/" has none). A write counts the path's length plus
// the data's; a read counts the path's length plus what it returns, plus 68 for the Stat.
//
// Apache keeps each summary set in a ConcurrentHashMap, and mntr lists the namespaces in that
// map's iteration order. JavaHashOrder reproduces that order (String.hashCode, the table's
// spread and bins, resizes with their lastRun split) so that kafkit's mntr lists the same lines
// in the same order.

export const STAT_BYTES = 68

class Summary {
  count = 0
  sum = 0
  min = Number.MAX_SAFE_INTEGER
  max = Number.MIN_SAFE_INTEGER

  add(v: number): void {
    this.count++
    this.sum += v
    if (v < this.min) this.min = v
    if (v > this.max) this.max = v
  }
}

/** The top namespace of a path, or null for "/" (Apache's PathUtils.getTopNamespace). */
export function topNamespace(path: string): string | null {
  const end = path.indexOf('/', 1)
  const ns = end < 0 ? path.slice(1) : path.slice(1, end)
  return ns.length === 0 ? null : ns
}

function javaStringHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0
  return h
}

interface Entry { key: string; hash: number }

/** Keys in the iteration order of a java.util.concurrent.ConcurrentHashMap they were put into. */
export class JavaHashOrder {
  private table: Entry[][] = Array.from({length: 16}, () => [])
  private size = 0

  add(key: string): void {
    const h = javaStringHash(key)
    const hash = (h ^ (h >>> 16)) & 0x7fffffff
    this.table[hash & (this.table.length - 1)].push({key, hash})
    this.size++
    // addCount resizes once the count reaches sizeCtl, three quarters of the table.
    const n = this.table.length
    if (this.size >= n - (n >>> 2)) this.resize()
  }

  private resize(): void {
    const n = this.table.length
    const next: Entry[][] = Array.from({length: n * 2}, () => [])
    for (let i = 0; i < n; i++) {
      const bin = this.table[i]
      if (bin.length === 0) continue
      // The tail run whose entries all go the same way keeps its order; the entries before it
      // are pushed onto the front of their list, one by one (so they come out reversed).
      let runBit = bin[bin.length - 1].hash & n
      let lastRun = bin.length - 1
      for (let j = bin.length - 2; j >= 0; j--) {
        if ((bin[j].hash & n) !== runBit) break
        lastRun = j
      }
      runBit = bin[lastRun].hash & n
      const lo: Entry[] = runBit === 0 ? bin.slice(lastRun) : []
      const hi: Entry[] = runBit !== 0 ? bin.slice(lastRun) : []
      for (let j = 0; j < lastRun; j++) {
        if ((bin[j].hash & n) === 0) lo.unshift(bin[j])
        else hi.unshift(bin[j])
      }
      next[i] = lo
      next[i + n] = hi
    }
    this.table = next
  }

  keys(): string[] {
    const out: string[] = []
    for (const bin of this.table) for (const e of bin) out.push(e.key)
    return out
  }
}

class SummarySet {
  private readonly byKey = new Map<string, Summary>()
  private readonly order = new JavaHashOrder()

  add(key: string, v: number): void {
    let s = this.byKey.get(key)
    if (!s) {
      s = new Summary()
      this.byKey.set(key, s)
      this.order.add(key)
    }
    s.add(v)
  }

  entries(): Array<[string, Summary]> {
    return this.order.keys().map(k => [k, this.byKey.get(k)!])
  }
}

export class NamespaceStats {
  readonly reads = new SummarySet()
  readonly writes = new SummarySet()
  /** The namespace of the previous request: reused while requests stay in it (no slice per request). */
  private last: string | null = null

  private namespaceOf(path: string): string | null {
    const end = path.indexOf('/', 1)
    const len = (end < 0 ? path.length : end) - 1
    if (len <= 0) return null
    const last = this.last
    if (last !== null && last.length === len && path.startsWith(last, 1)) return last
    return (this.last = path.slice(1, 1 + len))
  }

  read(path: string, bytes: number): void {
    const ns = this.namespaceOf(path)
    if (ns !== null) this.reads.add(ns, path.length + bytes)
  }

  write(path: string, bytes: number): void {
    const ns = this.namespaceOf(path)
    if (ns !== null) this.writes.add(ns, path.length + bytes)
  }

  /** mntr lines: reads then writes, each namespace's avg, min, max, cnt and sum. */
  lines(): Array<[string, number, 'avg' | 'int']> {
    const out: Array<[string, number, 'avg' | 'int']> = []
    for (const [set, name] of [[this.reads, 'read_per_namespace'], [this.writes, 'write_per_namespace']] as const) {
      for (const [ns, s] of set.entries()) {
        out.push(
          [`avg_${ns}_${name}`, Math.round((s.sum / s.count) * 10000) / 10000, 'avg'],
          [`min_${ns}_${name}`, s.min, 'int'],
          [`max_${ns}_${name}`, s.max, 'int'],
          [`cnt_${ns}_${name}`, s.count, 'int'],
          [`sum_${ns}_${name}`, s.sum, 'int'],
        )
      }
    }
    return out
  }
}
