// An ensemble's configuration as Apache ZooKeeper's QuorumVerifier holds it: the members
// (server.N lines), for hierarchical quorums the groups (group.G=a:b:c) and weights
// (weight.N=w), and the configuration's version (hex; 0 for a file without one). It decides
// whether a set of server ids is a quorum: a majority of the voters (QuorumMaj), or, with
// groups, a majority of the groups each with more than half of its weight present
// (QuorumHierarchical). Its text form is what /zookeeper/config, zoo.cfg.dynamic.<version>,
// the election notifications and NEWLEADER carry.
import {parseServerLine, type QuorumServerConfig} from '../../config/zk-config.js'
import {parseProperties} from '../../config/properties.js'

export class ConfigTextError extends Error {}

export class QuorumVerifier {
  /** Members in id order. */
  readonly members: QuorumServerConfig[]
  constructor(
    members: QuorumServerConfig[],
    public version: number,
    /** group id -> server ids, in the order written (null: majority quorums). */
    readonly groups: Map<number, number[]> | null = null,
    readonly weights: Map<number, number> = new Map(),
  ) {
    this.members = [...members].sort((a, b) => a.id - b.id)
  }

  get hierarchical(): boolean {
    return this.groups !== null
  }

  voters(): number[] {
    return this.members.filter(s => s.type === 'participant').map(s => s.id)
  }

  observers(): number[] {
    return this.members.filter(s => s.type === 'observer').map(s => s.id)
  }

  member(id: number): QuorumServerConfig | undefined {
    return this.members.find(s => s.id === id)
  }

  isVoter(id: number): boolean {
    return this.members.some(s => s.id === id && s.type === 'participant')
  }

  weight(id: number): number {
    return this.weights.get(id) ?? 1
  }

  /** QuorumMaj / QuorumHierarchical containsQuorum. */
  containsQuorum(ids: Iterable<number>): boolean {
    if (this.groups === null) {
      const voters = new Set(this.voters())
      let n = 0
      for (const id of new Set(ids)) if (voters.has(id)) n++
      return n * 2 > voters.size
    }
    const groupOf = new Map<number, number>()
    for (const [g, sids] of this.groups) for (const s of sids) groupOf.set(s, g)
    const have = new Map<number, number>()
    for (const id of new Set(ids)) {
      const g = groupOf.get(id)
      if (g === undefined) continue
      have.set(g, (have.get(g) ?? 0) + this.weight(id))
    }
    let majGroups = 0
    for (const [g, w] of have) {
      let total = 0
      for (const s of this.groups.get(g)!) total += this.weight(s)
      if (w > Math.floor(total / 2)) majGroups++
    }
    return majGroups > Math.floor(this.groups.size / 2)
  }

  /** QuorumServer.toString: host:quorumPort:electionPort:type[;clientAddress:clientPort]. */
  static serverString(s: QuorumServerConfig): string {
    const host = (h: string) => h.includes(':') ? `[${h}]` : h
    let out = `${host(s.host)}:${s.quorumPort}:${s.electionPort}:${s.type}`
    if (s.clientPort !== undefined) out += `;${host(s.clientAddress ?? '0.0.0.0')}:${s.clientPort}`
    return out
  }

  /** The server (group, weight) lines without the version line, as zoo.cfg.dynamic.<version> holds them (sorted, as Apache writes them). */
  dynamicLines(): string[] {
    return this.toString().split('\n').filter(l => !l.startsWith('version=')).sort()
  }

  /** QuorumMaj / QuorumHierarchical toString(). */
  toString(): string {
    let out = ''
    for (const s of this.members) out += `server.${s.id}=${QuorumVerifier.serverString(s)}\n`
    if (this.groups !== null) {
      // Apache builds the group lines from a HashMap of server -> group: servers in id order.
      const byGroup = new Map<number, number[]>()
      const pairs: Array<[number, number]> = []
      for (const [g, sids] of this.groups) for (const s of sids) pairs.push([s, g])
      pairs.sort((a, b) => a[0] - b[0])
      for (const [s, g] of pairs) {
        if (!byGroup.has(g)) byGroup.set(g, [])
        byGroup.get(g)!.push(s)
      }
      for (const g of [...byGroup.keys()].sort((a, b) => a - b)) out += `group.${g}=${byGroup.get(g)!.join(':')}\n`
      const ws = new Map(this.weights)
      for (const s of this.voters()) if (!ws.has(s)) ws.set(s, 1)
      for (const s of [...ws.keys()].sort((a, b) => a - b)) out += `weight.${s}=${ws.get(s)}\n`
    }
    return out + `version=${this.version.toString(16)}`
  }

  equals(o: QuorumVerifier): boolean {
    const strip = (t: string) => t.replace(/version=.*$/, '')
    return strip(this.toString()) === strip(o.toString())
  }

  /** Whether two verifiers give every voter the same quorum address (no major change for a follower). */
  withVersion(version: number): QuorumVerifier {
    return new QuorumVerifier(this.members, version, this.groups, this.weights)
  }
}

/**
 * Parses dynamic configuration lines (server.N, group.G, weight.N, version) as Apache's
 * QuorumPeerConfig.parseDynamicConfig does; throws ConfigTextError naming the bad line.
 */
export function parseVerifier(entries: Iterable<[string, string]>, where: string, opts: {allowOther?: boolean} = {}): QuorumVerifier {
  const members: QuorumServerConfig[] = []
  const groups = new Map<number, number[]>()
  const weights = new Map<number, number>()
  let hierarchical = false
  let version = 0
  const seenInGroup = new Map<number, number>()
  for (const [rawKey, rawValue] of entries) {
    const key = rawKey.trim()
    const value = rawValue.trim()
    if (/^server\./.test(key)) {
      const q = parseServerLine(key, value)
      if (q === null) throw new ConfigTextError(`Invalid value ${value} for configuration ${key} in ${where}: must be host:quorumPort:electionPort[:participant|observer][;[clientAddress:]clientPort]`)
      if (members.some(m => m.id === q.id)) members.splice(members.findIndex(m => m.id === q.id), 1)
      members.push(q)
    } else if (key.startsWith('group')) {
      hierarchical = true
      const g = Number(key.slice(key.indexOf('.') + 1))
      if (!/^group\.\d+$/.test(key)) throw new ConfigTextError(`Invalid group key ${key} in ${where}`)
      const sids = value.split(':').map(x => x.trim())
      for (const s of sids) {
        if (!/^\d+$/.test(s)) throw new ConfigTextError(`Invalid server id ${s} in ${key}=${value} (${where})`)
        if (seenInGroup.has(Number(s))) throw new ConfigTextError(`Server ${s}is in multiple groups`)
        seenInGroup.set(Number(s), g)
      }
      groups.set(g, sids.map(Number))
    } else if (key.startsWith('weight')) {
      hierarchical = true
      if (!/^weight\.\d+$/.test(key) || !/^\d+$/.test(value)) throw new ConfigTextError(`Invalid weight ${key}=${value} in ${where}`)
      weights.set(Number(key.slice(7)), Number(value))
    } else if (key === 'version') {
      if (!/^[0-9a-fA-F]+$/.test(value)) throw new ConfigTextError(`Invalid version ${value} in ${where}`)
      version = parseInt(value, 16)
    } else if (!opts.allowOther) {
      throw new ConfigTextError(`Unrecognised parameter: ${key}`)
    }
  }
  if (hierarchical) {
    for (const m of members) {
      if (m.type !== 'participant') continue
      if (!seenInGroup.has(m.id)) throw new ConfigTextError(`Server ${m.id}is not in a group`)
    }
  }
  return new QuorumVerifier(members, version, hierarchical ? groups : null, weights)
}

/** A configuration's text (key=value lines, or comma-separated as reconfig -members sends it). */
export function verifierFromText(text: string, where: string): QuorumVerifier {
  return parseVerifier(parseProperties(text.replace(/,/g, '\n'), where).entries(), where)
}
