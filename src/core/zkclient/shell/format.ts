// What zookeeper-shell prints, as ZooKeeper 3.8's zkCli prints it: the usage listing, Stat,
// ACLs, dates in java.util.Date#toString form, error messages of CliWrapperException, and the
// Java string helpers the shell's output depends on.
import type {KeeperError} from '../client.js'
import type {Stat} from '../codec.js'

/** Each command's option string, as CliCommand.getOptionStr() gives it (the usage listing). */
export const COMMANDS: Record<string, string> = {
  addWatch: '[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE',
  addauth: 'scheme auth',
  close: '',
  config: '[-c] [-w] [-s]',
  connect: 'host:port',
  create: '[-s] [-e] [-c] [-t ttl] path [data] [acl]',
  delete: '[-v version] path',
  deleteall: 'path [-b batch size]',
  delquota: '[-n|-b|-N|-B] path',
  get: '[-s] [-w] path',
  getAcl: '[-s] path',
  getAllChildrenNumber: 'path',
  getEphemerals: 'path',
  history: '',
  listquota: 'path',
  ls: '[-s] [-w] [-R] path',
  printwatches: 'on|off',
  quit: '',
  reconfig: '[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]',
  redo: 'cmdno',
  removewatches: 'path [-c|-d|-a] [-l]',
  set: '[-s] [-v version] path data',
  setAcl: '[-s] [-v version] [-R] path acl',
  setquota: '-n|-b|-N|-B val path',
  stat: '[-w] path',
  sync: 'path',
  version: '',
  whoami: '',
}

export const USAGE = 'ZooKeeper -server host:port [-zk-tls-config-file <file>] cmd args\n' +
  Object.keys(COMMANDS).sort().map(c => `\t${c} ${COMMANDS[c]}\n`).join('')

export const usageOf = (cmd: string) => `${cmd} ${COMMANDS[cmd]}`

export function hex(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16)
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const zoneFormats = ['en-US', 'en-GB', 'en-AU', 'en-IN'].map(l => new Intl.DateTimeFormat(l, {timeZoneName: 'short'}))
const localZone = new Intl.DateTimeFormat().resolvedOptions().timeZone
/** Java's short names for zones ICU's English locales only give as GMT offsets. */
const JAVA_ZONE_NAMES: Record<string, [string, string]> = {
  'Asia/Tokyo': ['JST', 'JDT'], 'Asia/Shanghai': ['CST', 'CDT'], 'Asia/Seoul': ['KST', 'KDT'],
  'Asia/Hong_Kong': ['HKT', 'HKST'], 'Asia/Singapore': ['SGT', 'SGT'], 'Asia/Taipei': ['CST', 'CDT'],
  'America/Sao_Paulo': ['BRT', 'BRST'], 'Europe/Moscow': ['MSK', 'MSD'], 'Europe/Istanbul': ['TRT', 'TRT'],
}

/** The zone's short name as java.util.Date#toString prints it (CET, EST, IST, GMT+09:00...). */
function zoneName(d: Date): string {
  const own = JAVA_ZONE_NAMES[localZone]
  if (own) {
    const jan = new Date(d.getFullYear(), 0, 1).getTimezoneOffset()
    const jul = new Date(d.getFullYear(), 6, 1).getTimezoneOffset()
    return d.getTimezoneOffset() < Math.max(jan, jul) ? own[1] : own[0]
  }
  for (const f of zoneFormats) {
    const name = f.formatToParts(d).find(p => p.type === 'timeZoneName')?.value ?? 'UTC'
    if (!/^GMT[+-]/.test(name)) return name
  }
  const off = -d.getTimezoneOffset()
  const a = Math.abs(off)
  return `GMT${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`
}

/** java.util.Date#toString in the local time zone: "Tue Nov 24 01:26:58 UTC 2026". */
export function javaDate(ms: bigint): string {
  const d = new Date(Number(ms))
  const p2 = (n: number) => String(n).padStart(2, '0')
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${zoneName(d)} ${d.getFullYear()}`
}

/** StatPrinter.print. */
export function statText(s: Stat): string {
  return `cZxid = ${hex(s.czxid)}\nctime = ${javaDate(s.ctime)}\nmZxid = ${hex(s.mzxid)}\nmtime = ${javaDate(s.mtime)}\n` +
    `pZxid = ${hex(s.pzxid)}\ncversion = ${s.cversion}\ndataVersion = ${s.version}\naclVersion = ${s.aversion}\n` +
    `ephemeralOwner = ${hex(s.ephemeralOwner)}\ndataLength = ${s.dataLength}\nnumChildren = ${s.numChildren}\n`
}

/** ZKUtil.getPermString. */
export function permString(p: number): string {
  return (p & 4 ? 'c' : '') + (p & 8 ? 'd' : '') + (p & 1 ? 'r' : '') + (p & 2 ? 'w' : '') + (p & 16 ? 'a' : '')
}

/** Jute's CSV escaping, as Id.toString() prints scheme and id. */
export function csv(s: string): string {
  return "'" + s.replace(/[%,\n\r}\0]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'))
}

/** CliWrapperException's message for a KeeperException. */
export function wrapperMessage(e: KeeperError): string {
  switch (e.code) {
    case -101: return `Node does not exist: ${e.path}`
    case -108: return `Ephemerals cannot have children: ${e.path}`
    case -110: return `Node already exists: ${e.path}`
    case -111: return `Node not empty: ${e.path}`
    case -119: return `Not a read-only call: ${e.path}`
    case -114: return `Acl is not valid : ${e.path}`
    case -102: return `Insufficient permission : ${e.path}`
    case -8: return `Arguments are not valid : ${e.path}`
    case -103: return `version No is not valid : ${e.path}`
    case -14: return 'Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)'
    case -13: return 'No quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced'
    case -125: return `Quota has exceeded : ${e.path}`
    default: return e.message
  }
}

/** String.compareTo: UTF-16 code unit order (what Collections.sort uses). */
export function javaCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** String.split(sep) in Java: trailing empty strings removed. */
export function javaSplit(s: string, sep: string): string[] {
  const parts = s.split(sep)
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop()
  if (parts.length === 1 && parts[0] === '' && s.length > 0) return []
  return parts
}

/** ConfigUtils.getClientConfigStr: "version host:port,host:port" from a dynamic config (servers in file order). */
export function clientConfigStr(config: string): string {
  let version = ''
  const servers: string[] = []
  for (const line of config.split('\n')) {
    const eq = line.indexOf('=')
    if (eq < 0) continue
    const key = line.slice(0, eq).trim()
    const value = line.slice(eq + 1).trim()
    if (key === 'version') version = value
    if (!key.startsWith('server.')) continue
    const semi = value.lastIndexOf(';')
    if (semi < 0) continue
    let client = value.slice(semi + 1).trim()
    if (!client.includes(':')) client = `0.0.0.0:${client}`
    servers.push(client)
  }
  return `${version} ${servers.join(',')}`
}
