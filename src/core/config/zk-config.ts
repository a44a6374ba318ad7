// zookeeper.properties (Apache ZooKeeper's zoo.cfg keys) read into typed, validated settings.
import {isAbsolute, resolve, join, dirname} from 'node:path'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {loadProperties, parseProperties} from './properties.js'
import {Settings, ConfigError} from './settings.js'
import {zkSecurityConfig, defaultZkSecurity, type ZkSecurityConfig} from './zk-security.js'
import {quorumSecurityConfig, defaultQuorumSecurity, type QuorumSecurityConfig} from './zk-quorum-security.js'
import {parseVerifier, ConfigTextError, type QuorumVerifier} from '../zookeeper/quorum/verifier.js'
import {Logger} from '../util/log.js'

const log = new Logger('org.apache.zookeeper.server.quorum.QuorumPeerConfig')

export interface ZkConfig {
  source: string
  dataDir: string
  dataLogDir: string
  clientPort: number
  clientPortAddress: string
  /** No clientPortAddress was given: listen on every address, IPv6 and IPv4 (as Java does). */
  clientPortAddressWildcard?: boolean
  tickTime: number
  minSessionTimeout: number
  maxSessionTimeout: number
  maxClientCnxns: number
  adminEnableServer: boolean
  adminServerPort: number
  adminServerAddress: string
  /** Allowed four-letter words; '*' allows all. */
  fourLetterWords: Set<string> | '*'
  snapCount: number
  forceSync: boolean
  /** Transaction log files grow in steps of this many bytes (preAllocSize, in KB in the file). */
  preAllocBytes: number
  snapRetainCount: number
  purgeInterval: number
  juteMaxBuffer: number
  extendedTypesEnabled: boolean
  containerCheckIntervalMs: number
  initLimit: number
  syncLimit: number
  /** The server.N lines as written (key=value). */
  servers: string[]
  /** The ensemble's members, parsed from the server.N lines (of the dynamic config file if set). */
  quorumServers: QuorumServerConfig[]
  /** This server's id (dataDir/myid), or -1 when it has none (standalone). */
  serverId: number
  /** Whether this server runs as an ensemble member (more than one participant, or standaloneEnabled=false). */
  ensemble: boolean
  peerType: 'participant' | 'observer'
  standaloneEnabled: boolean
  quorumListenOnAllIPs: boolean
  /** Connect timeout for election connections (cnxTimeout, ms). */
  cnxTimeout: number
  /** Keys present in the file that kafkit does not know (start-up warns about each). */
  unknownKeys: string[]
  /** Authentication, SASL and the TLS client port (zk-security.ts). */
  security: ZkSecurityConfig
  /** TLS and SASL on the quorum and election ports (zk-quorum-security.ts). */
  quorumSecurity: QuorumSecurityConfig
  /** False when only secureClientPort is set: no plaintext client port (as Apache). */
  clientPortEnabled?: boolean
  /** reconfigEnabled: the reconfig request and the dynamic configuration file are live. */
  reconfigEnabled?: boolean
  /** skipACL=yes (Apache's zookeeper.skipACL): reconfig skips the /zookeeper/config ACL check. */
  skipACL?: boolean
  /** The dynamic configuration file (absolute) when dynamicConfigFile is set. */
  dynamicConfigFile?: string
  /** The ensemble's configuration: server.N, group.G and weight.N lines and the version (hex). */
  quorumVerifier?: QuorumVerifier
  /**
   * The last proposed configuration, from <file>.dynamic.next (read when dynamicConfigFile is
   * set, as Apache's QuorumPeerConfig does): a reconfig this server logged but whose commit it
   * did not see before it stopped.
   */
  lastSeenQuorumVerifier?: QuorumVerifier
}

/** One server.N line: host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]. */
export interface QuorumServerConfig {
  id: number
  host: string
  quorumPort: number
  electionPort: number
  type: 'participant' | 'observer'
  clientAddress?: string
  clientPort?: number
}

export const FOUR_LETTER_WORDS = ['conf', 'cons', 'crst', 'dump', 'envi', 'ruok', 'srst', 'srvr', 'stat', 'wchs', 'wchc', 'wchp', 'dirs', 'mntr', 'isro'] as const

/** Keys Apache ZooKeeper accepts that kafkit reads without acting on them. */
const ACCEPTED = [
  'globalOutstandingLimit', 'syncEnabled', 'localSessionsEnabled', 'localSessionsUpgradingEnabled',
  'leaderServes', 'connectToLearnerMasterLimit', 'minClientCnxns',
  'admin.idleTimeout', 'admin.commandURL', 'audit.enable',
  'clientCnxnSocket', 'serverCnxnFactory', 'maxCnxns', 'fsync.warningthresholdms', 'snapSizeLimitInKb',
  'txnLogSizeLimitInKb', 'commitLogCount', 'zookeeper.snapshot.trust.empty', 'digest.enabled',
]

export function defaultZkConfig(over: Partial<ZkConfig> = {}): ZkConfig {
  const tickTime = over.tickTime ?? 3000
  return {
    source: '<defaults>',
    dataDir: '',
    dataLogDir: over.dataLogDir ?? over.dataDir ?? '',
    clientPort: 2181,
    clientPortAddress: '0.0.0.0',
    clientPortAddressWildcard: over.clientPortAddress === undefined,
    tickTime,
    minSessionTimeout: tickTime * 2,
    maxSessionTimeout: tickTime * 20,
    maxClientCnxns: 60,
    adminEnableServer: false,
    adminServerPort: 8080,
    adminServerAddress: '0.0.0.0',
    fourLetterWords: new Set(['srvr']),
    snapCount: 100000,
    forceSync: true,
    preAllocBytes: 64 * 1024 * 1024,
    snapRetainCount: 3,
    purgeInterval: 0,
    juteMaxBuffer: 0xfffff,
    extendedTypesEnabled: false,
    containerCheckIntervalMs: 60000,
    initLimit: 10,
    syncLimit: 5,
    servers: [],
    quorumServers: [],
    serverId: -1,
    ensemble: false,
    peerType: 'participant',
    standaloneEnabled: true,
    quorumListenOnAllIPs: false,
    cnxTimeout: 5000,
    unknownKeys: [],
    security: defaultZkSecurity(),
    quorumSecurity: defaultQuorumSecurity(),
    ...over,
  }
}

function parseBoolLike(s: Settings, key: string, def: boolean): boolean {
  return s.bool(key, def)
}

/** Reads zookeeper.properties; throws ConfigError naming key, value and file on bad values. */
export function loadZkConfig(file: string, overrides: Map<string, string> = new Map()): ZkConfig {
  const props = loadProperties(file)
  for (const [k, v] of overrides) props.set(k, v)
  return zkConfigFromProperties(props, file)
}

export function zkConfigFromProperties(props: Map<string, string>, file: string): ZkConfig {
  const s = new Settings(props, file)
  const dir = (key: string): string | undefined => {
    const v = s.optString(key)
    if (v === undefined) return undefined
    return isAbsolute(v) ? v : resolve(v)
  }
  const dataDir = dir('dataDir')
  if (dataDir === undefined) throw new ConfigError(`dataDir is not set in ${file}`)
  const dataLogDir = dir('dataLogDir') ?? dataDir
  const tickTime = s.int('tickTime', 3000, 1)
  let clientPort = s.int('clientPort', 2181, 0, 65535)
  let clientPortAddressWildcard = s.optString('clientPortAddress') === undefined
  let clientPortAddress = s.string('clientPortAddress', '0.0.0.0')
  let minSessionTimeout = s.int('minSessionTimeout', -1)
  let maxSessionTimeout = s.int('maxSessionTimeout', -1)
  if (minSessionTimeout === -1) minSessionTimeout = tickTime * 2
  if (maxSessionTimeout === -1) maxSessionTimeout = tickTime * 20
  if (minSessionTimeout < 0) throw s.bad('minSessionTimeout', String(minSessionTimeout), 'a non-negative number of milliseconds')
  if (minSessionTimeout > maxSessionTimeout) throw new ConfigError(`minSessionTimeout ${minSessionTimeout} must not be larger than maxSessionTimeout ${maxSessionTimeout} in ${file}`)
  const maxClientCnxns = s.int('maxClientCnxns', 60, 0)
  const adminEnableServer = parseBoolLike(s, 'admin.enableServer', true)
  const adminServerPort = s.int('admin.serverPort', 8080, 0, 65535)
  const adminServerAddress = s.string('admin.serverAddress', '0.0.0.0')
  const wl = s.raw('4lw.commands.whitelist')
  let fourLetterWords: Set<string> | '*' = new Set(['srvr'])
  if (wl !== undefined) {
    const words = wl.split(',').map(x => x.trim()).filter(x => x !== '')
    if (words.includes('*')) fourLetterWords = '*'
    else {
      for (const w of words) if (!(FOUR_LETTER_WORDS as readonly string[]).includes(w)) throw s.bad('4lw.commands.whitelist', wl, `a comma-separated list of ${FOUR_LETTER_WORDS.join(', ')} or *`)
      fourLetterWords = new Set(words)
    }
  }
  const snapCount = s.int('snapCount', 100000, 2)
  const forceSync = parseBoolLike(s, 'forceSync', true)
  // Apache reads it as the system property zookeeper.preAllocSize (zoo.cfg keys it does not
  // know become "zookeeper." properties): kilobytes, default 64 MB; 0 turns padding off.
  const preAllocBytes = s.int('preAllocSize', s.int('zookeeper.preAllocSize', 65536, 0), 0) * 1024
  const snapRetainCount = Math.max(3, s.int('autopurge.snapRetainCount', 3, 1))
  const purgeInterval = s.int('autopurge.purgeInterval', 0, 0)
  const juteMaxBuffer = s.int('jute.maxbuffer', 0xfffff, 1)
  const extendedTypesEnabled = parseBoolLike(s, 'zookeeper.extendedTypesEnabled', false) || parseBoolLike(s, 'extendedTypesEnabled', false)
  const containerCheckIntervalMs = s.int('znode.container.checkIntervalMs', 60000, 1)
  const initLimitSet = s.has('initLimit')
  const syncLimitSet = s.has('syncLimit')
  const initLimit = s.int('initLimit', 10, 1)
  const syncLimit = s.int('syncLimit', 5, 1)
  for (const k of props.keys()) {
    if (k.startsWith('authProvider.') || k.startsWith('metricsProvider.') || k.startsWith('ssl.') || k.startsWith('admin.')) s.raw(k)
  }
  const standaloneEnabled = parseBoolLike(s, 'standaloneEnabled', true)
  const quorumListenOnAllIPs = parseBoolLike(s, 'quorumListenOnAllIPs', false)
  const cnxTimeout = s.int('cnxTimeout', 5000, 1)
  const electionAlg = s.int('electionAlg', 3)
  if (electionAlg !== 3) throw s.bad('electionAlg', String(electionAlg), '3 (FastLeaderElection, the only algorithm Apache ZooKeeper 3.8 has)')
  const peerTypeRaw = s.string('peerType', 'participant').toLowerCase()
  if (peerTypeRaw !== 'participant' && peerTypeRaw !== 'observer') throw s.bad('peerType', peerTypeRaw, 'participant or observer')
  const reconfigEnabled = parseBoolLike(s, 'reconfigEnabled', false)
  const skipACL = s.string('skipACL', 'no') === 'yes'
  // The server.N (group.G, weight.N) lines: from dynamicConfigFile when set (as Apache 3.5+
  // reads it, the version from the file name's hex suffix), else from this file.
  let serverSource = file
  const dynamicKey = (k: string) => /^server\./.test(k) || k.startsWith('group') || k.startsWith('weight')
  let dynamicEntries: Array<[string, string]> = [...props.entries()].filter(([k]) => dynamicKey(k))
  for (const [k] of dynamicEntries) s.raw(k)
  const dynamicFile = s.optString('dynamicConfigFile')
  let dynamicConfigFile: string | undefined
  if (dynamicFile !== undefined) {
    const dyn = isAbsolute(dynamicFile) ? dynamicFile : resolve(dirname(file), dynamicFile)
    if (!existsSync(dyn)) throw new ConfigError(`dynamicConfigFile ${dyn} (in ${file}) does not exist`)
    if (dynamicEntries.length > 0) throw new ConfigError(`${file} has both dynamicConfigFile and server.N lines: keep the server.N lines in ${dyn} only`)
    const text = readFileSync(dyn, 'utf8')
    const dprops = parseProperties(text, dyn)
    if (dprops.has('version')) throw new ConfigError(`Error processing ${dyn}: dynamic file shouldn't have version inside`)
    for (const k of dprops.keys()) if (!dynamicKey(k)) throw new ConfigError(`Error processing ${dyn}: Unrecognised parameter: ${k}`)
    duplicateServerKeys(text, dyn)
    serverSource = dyn
    dynamicConfigFile = dyn
    dynamicEntries = [...dprops.entries()]
    const suffix = /\.([0-9a-fA-F]+)$/.exec(dyn)
    if (suffix) dynamicEntries.push(['version', parseInt(suffix[1], 16).toString(16)])
  } else if (file !== '<properties>' && existsSync(file)) duplicateServerKeys(readFileSync(file, 'latin1'), file)
  let quorumVerifier: QuorumVerifier
  try {
    quorumVerifier = parseVerifier(dynamicEntries, serverSource)
  } catch (e) {
    if (e instanceof ConfigTextError) throw new ConfigError(e.message.includes(serverSource) ? e.message : `Error processing ${serverSource}: ${e.message}`)
    throw e
  }
  const lastSeenQuorumVerifier = dynamicConfigFile !== undefined ? readNextDynamicConfig(file) : undefined
  const serverLines = dynamicEntries.filter(([k]) => /^server\./.test(k))
  const servers: string[] = []
  const quorumServers: QuorumServerConfig[] = []
  for (const [k, raw] of serverLines) {
    const v = raw.trim()
    const q = parseServerLine(k, v)
    if (q === null) throw new ConfigError(`Invalid value ${v} for configuration ${k} in ${serverSource}: must be host:quorumPort:electionPort[:participant|observer][;[clientAddress:]clientPort]`)
    servers.push(`${k}=${v}`)
    quorumServers.push(q)
  }
  quorumServers.sort((a, b) => a.id - b.id)
  const participants = quorumServers.filter(q => q.type === 'participant')
  const observers = quorumServers.length - participants.length
  if (participants.length === 0 && observers > 0) throw new ConfigError(`${serverSource} lists only observers (${quorumServers.map(q => `server.${q.id}`).join(', ')}): an ensemble needs participants`)
  if (participants.length === 1 && standaloneEnabled && observers > 0) throw new ConfigError(`${serverSource} lists observers with a single participant: observers need a quorum of at least two participants (or standaloneEnabled=false)`)
  const ensemble = participants.length > 1 || (participants.length === 1 && !standaloneEnabled)
  for (let i = 0; i < quorumServers.length; i++) {
    for (let j = i + 1; j < quorumServers.length; j++) {
      const a = quorumServers[i]
      const b = quorumServers[j]
      const ap = [a.quorumPort, a.electionPort]
      const bp = [b.quorumPort, b.electionPort]
      if (sameHost(a.host, b.host)) for (const x of ap) if (bp.includes(x)) throw new ConfigError(`${a.host}:${x} of server.${a.id} conflicts with server.${b.id} in ${serverSource}: every server needs its own quorum and election ports`)
    }
    const q = quorumServers[i]
    if (q.quorumPort === q.electionPort) throw new ConfigError(`server.${q.id} in ${serverSource} uses port ${q.quorumPort} for both quorum and election: they must differ`)
  }
  let serverId = -1
  const myidFile = join(dataDir, 'myid')
  let myidIsFile = false
  try { myidIsFile = statSync(myidFile).isFile() } catch { /* missing */ }
  if (myidIsFile) {
    const text = readFileSync(myidFile, 'utf8').split(/\r?\n/)[0].trim()
    if (!/^\d+$/.test(text) || Number(text) > Number.MAX_SAFE_INTEGER) throw new ConfigError(`${myidFile} holds "${text}", not a server id (a number from the server.N lines in ${serverSource})`)
    serverId = Number(text)
  }
  let peerType: 'participant' | 'observer' = peerTypeRaw
  if (ensemble) {
    if (!initLimitSet) throw new ConfigError(`initLimit is not set in ${file}: an ensemble needs it (ticks a follower may take to connect and sync, e.g. initLimit=10)`)
    if (!syncLimitSet) throw new ConfigError(`syncLimit is not set in ${file}: an ensemble needs it (ticks a follower may lag, e.g. syncLimit=5)`)
    if (!myidIsFile) throw new ConfigError(`myid file is missing: ${myidFile} must hold this server's id, one of ${quorumServers.map(q => q.id).join(', ')} (the server.N lines in ${serverSource})`)
    const me = quorumServers.find(q => q.id === serverId)
    if (!me) throw new ConfigError(`My id ${serverId} (in ${myidFile}) is not in the server list of ${serverSource} (${quorumServers.map(q => `server.${q.id}`).join(', ')})`)
    peerType = me.type
    if (me.clientPort !== undefined && s.has('clientPort') && clientPort !== 0 && clientPort !== me.clientPort) throw new ConfigError(`clientPort ${clientPort} in ${file} differs from the client port ${me.clientPort} of server.${serverId} in ${serverSource}`)
    if (me.clientPort !== undefined && !s.has('clientPort')) clientPort = me.clientPort
    if (me.clientAddress !== undefined && clientPortAddressWildcard) {
      clientPortAddress = me.clientAddress
      clientPortAddressWildcard = false
    }
  }
  for (const k of ACCEPTED) s.raw(k)
  const security = zkSecurityConfig(s, props, file)
  const quorumSecurity = quorumSecurityConfig(s, props, file)
  const clientPortEnabled = security.secureClientPort === null || s.has('clientPort')
  const unknownKeys = s.unused()
  return {
    source: file, dataDir, dataLogDir, clientPort, clientPortAddress, clientPortAddressWildcard, tickTime, minSessionTimeout, maxSessionTimeout,
    maxClientCnxns, adminEnableServer, adminServerPort, adminServerAddress, fourLetterWords, snapCount, forceSync, preAllocBytes,
    snapRetainCount, purgeInterval, juteMaxBuffer, extendedTypesEnabled, containerCheckIntervalMs, initLimit, syncLimit,
    servers, quorumServers, serverId, ensemble, peerType, standaloneEnabled, quorumListenOnAllIPs, cnxTimeout, unknownKeys,
    security, quorumSecurity, clientPortEnabled, reconfigEnabled, skipACL, dynamicConfigFile, quorumVerifier, lastSeenQuorumVerifier,
  }
}

/**
 * <file>.dynamic.next (QuorumPeerConfig.parse): the configuration a reconfig proposal carried,
 * with its version line. A file that cannot be read or parsed is skipped with a warning, as
 * Apache starts with no last-seen configuration then.
 */
function readNextDynamicConfig(file: string): QuorumVerifier | undefined {
  const next = `${file}.dynamic.next`
  if (!existsSync(next)) return undefined
  try {
    return parseVerifier(parseProperties(readFileSync(next, 'utf8'), next).entries(), next)
  } catch (e) {
    log.warn(`${next} is not a configuration (${(e as Error).message}): the last proposed configuration is not known`)
    return undefined
  }
}

/** Parses host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]; null if malformed. */
export function parseServerLine(key: string, value: string): QuorumServerConfig | null {
  const km = /^server\.(\d+)$/.exec(key)
  if (!km) return null
  const [addr, client] = value.split(';', 2) as [string, string | undefined]
  // IPv6 hosts in brackets: [::1]:2888:3888
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d+):(\d+)(?::(participant|observer))?$/.exec(addr.trim())
  if (!m) return null
  const ports = [Number(m[2]), Number(m[3])]
  if (ports.some(p => p < 1 || p > 65535)) return null
  const q: QuorumServerConfig = {id: Number(km[1]), host: m[1].replace(/^\[|\]$/g, ''), quorumPort: ports[0], electionPort: ports[1], type: (m[4] ?? 'participant') as 'participant' | 'observer'}
  if (client !== undefined && client.trim() !== '') {
    const c = /^(?:(\[[^\]]+\]|[^:\s]+):)?(\d+)$/.exec(client.trim())
    if (!c || Number(c[2]) < 1 || Number(c[2]) > 65535) return null
    q.clientPort = Number(c[2])
    if (c[1] !== undefined) q.clientAddress = c[1].replace(/^\[|\]$/g, '')
  }
  return q
}

function sameHost(a: string, b: string): boolean {
  const norm = (h: string) => h === 'localhost' || h === '::1' || h.startsWith('127.') ? '127.0.0.1' : h
  return norm(a) === norm(b)
}

/** A server.N key written twice (java.util.Properties would silently keep the last one). */
function duplicateServerKeys(text: string, file: string): void {
  const seen = new Set<string>()
  for (const line of text.split(/\r\n|\r|\n/)) {
    const m = /^\s*(server\.\d+)\s*[=:\s]/.exec(line)
    if (!m) continue
    if (seen.has(m[1])) throw new ConfigError(`${m[1]} appears more than once in ${file}: each server id must be listed once`)
    seen.add(m[1])
  }
}
