// zookeeper.properties (Apache ZooKeeper's zoo.cfg keys) read into typed, validated settings.
import {isAbsolute, resolve} from 'node:path'
import {loadProperties} from './properties.js'
import {Settings, ConfigError} from './settings.js'

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
  servers: string[]
  /** Keys present in the file that kafkit does not know (start-up warns about each). */
  unknownKeys: string[]
}

export const FOUR_LETTER_WORDS = ['conf', 'cons', 'crst', 'dump', 'envi', 'ruok', 'srst', 'srvr', 'stat', 'wchs', 'wchc', 'wchp', 'dirs', 'mntr', 'isro'] as const

/** Keys Apache ZooKeeper accepts that kafkit reads without acting on them. */
const ACCEPTED = [
  'standaloneEnabled', 'reconfigEnabled', 'globalOutstandingLimit', 'syncEnabled',
  'quorumListenOnAllIPs', 'electionAlg', 'peerType', 'localSessionsEnabled', 'localSessionsUpgradingEnabled',
  'skipACL', 'leaderServes', 'cnxTimeout', 'connectToLearnerMasterLimit', 'minClientCnxns',
  'admin.idleTimeout', 'admin.commandURL', 'sslQuorum', 'portUnification', 'audit.enable',
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
    unknownKeys: [],
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
  const clientPort = s.int('clientPort', 2181, 0, 65535)
  const clientPortAddressWildcard = s.optString('clientPortAddress') === undefined
  const clientPortAddress = s.string('clientPortAddress', '0.0.0.0')
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
  const initLimit = s.int('initLimit', 10, 1)
  const syncLimit = s.int('syncLimit', 5, 1)
  const servers: string[] = []
  for (const k of props.keys()) {
    if (/^server\.\d+$/.test(k)) {
      const v = s.string(k, '')
      if (!/^[^:\s]+:\d+:\d+(:(participant|observer))?(;.*)?$/.test(v)) throw s.bad(k, v, 'host:peerPort:electionPort[:participant|observer][;[clientAddress:]clientPort]')
      servers.push(`${k}=${v}`)
    }
    if (/^(group|weight)\.\d+$/.test(k) || k.startsWith('authProvider.') || k.startsWith('metricsProvider.') || k.startsWith('ssl.') || k.startsWith('admin.')) s.raw(k)
  }
  if (servers.length > 1) throw new ConfigError(`${file} lists ${servers.length} servers (${servers.map(x => x.split('=')[0]).join(', ')}): a ZooKeeper ensemble is not supported yet; keep one server.N line or none`)
  for (const k of ACCEPTED) s.raw(k)
  if (s.has('secureClientPort')) throw new ConfigError(`secureClientPort in ${file}: TLS client connections are not supported yet`)
  s.raw('secureClientPort')
  const unknownKeys = s.unused()
  return {
    source: file, dataDir, dataLogDir, clientPort, clientPortAddress, clientPortAddressWildcard, tickTime, minSessionTimeout, maxSessionTimeout,
    maxClientCnxns, adminEnableServer, adminServerPort, adminServerAddress, fourLetterWords, snapCount, forceSync, preAllocBytes,
    snapRetainCount, purgeInterval, juteMaxBuffer, extendedTypesEnabled, containerCheckIntervalMs, initLimit, syncLimit,
    servers, unknownKeys,
  }
}
