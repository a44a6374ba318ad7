// zookeeper-shell: Kafka 3.9's zookeeper-shell.sh, which is Apache ZooKeeper 3.8's
// ZooKeeperMain (zkCli) behind Kafka's wrapper. `zookeeper-shell host:port[/chroot] [cmd args]`
// runs one command; without one it reads commands from stdin, one per line. Every command,
// message, stream (stdout/stderr) and exit code follows the Java shell's; the client is
// kafkit's own (src/core/zkclient), so containers, TTL nodes, getEphemerals, whoami,
// addWatch and removewatches work as they do with Apache's client.
import {Command} from '@oclif/core'
import {createInterface} from 'node:readline'
import {ZkClient, KeeperError, PathError, eventString, type WatchedEvent} from '../core/zkclient/client.js'
import {Mode, OPEN_ACL_UNSAFE, validatePath, type Acl, type Stat} from '../core/zkclient/codec.js'
import {
  splitArgs, parseOptions, parseJavaInt, parseJavaLong, decodeJavaInt, CliError, JavaCrash, type OptionSpec, type OptionGroup,
} from '../core/zkclient/options.js'

/** The Java shell's ExitCode.EXECUTION_FINISHED. */
const OK = 0
const MAX_TTL = 0xffffffffffn // EphemeralType.TTL's 40-bit limit
const ZK_CLI_VERSION = '3.8.4'

/** Each command's option string, as CliCommand.getOptionStr() gives it (the usage listing). */
const COMMANDS: Record<string, string> = {
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

const USAGE = 'ZooKeeper -server host:port [-zk-tls-config-file <file>] cmd args\n' +
  Object.keys(COMMANDS).sort().map(c => `\t${c} ${COMMANDS[c]}\n`).join('')

const usageOf = (cmd: string) => `${cmd} ${COMMANDS[cmd]}`

function hex(v: bigint): string {
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
function javaDate(ms: bigint): string {
  const d = new Date(Number(ms))
  const p2 = (n: number) => String(n).padStart(2, '0')
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${zoneName(d)} ${d.getFullYear()}`
}

/** StatPrinter.print. */
function statText(s: Stat): string {
  return `cZxid = ${hex(s.czxid)}\nctime = ${javaDate(s.ctime)}\nmZxid = ${hex(s.mzxid)}\nmtime = ${javaDate(s.mtime)}\n` +
    `pZxid = ${hex(s.pzxid)}\ncversion = ${s.cversion}\ndataVersion = ${s.version}\naclVersion = ${s.aversion}\n` +
    `ephemeralOwner = ${hex(s.ephemeralOwner)}\ndataLength = ${s.dataLength}\nnumChildren = ${s.numChildren}\n`
}

/** ZKUtil.getPermString. */
function permString(p: number): string {
  return (p & 4 ? 'c' : '') + (p & 8 ? 'd' : '') + (p & 1 ? 'r' : '') + (p & 2 ? 'w' : '') + (p & 16 ? 'a' : '')
}

/** Jute's CSV escaping, as Id.toString() prints scheme and id. */
function csv(s: string): string {
  return "'" + s.replace(/[%,\n\r}\0]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'))
}

/** CliWrapperException's message for a KeeperException. */
function wrapperMessage(e: KeeperError): string {
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

export default class ZooKeeperShell extends Command {
  static summary = 'Apache ZooKeeper\'s command-line shell, as Kafka 3.9 ships it (zookeeper-shell.sh).'
  static description = 'Connects to a ZooKeeper server (host:port[,host:port...][/chroot], IPv6 as [::1]:2181) and runs one command, or reads commands from standard input when none is given. Commands, output and exit codes are those of ZooKeeper 3.8\'s zkCli: ls, get, stat, create (-s -e -c -t ttl), set, delete, deleteall, getAcl, setAcl, addauth, sync, getEphemerals, getAllChildrenNumber, addWatch, removewatches, whoami, config, version, setquota, listquota, delquota, reconfig, printwatches, history, redo, close, connect, quit.'
  static strict = false
  static usage = '<%= command.id %> host:port[,host:port...][/chroot] [-timeout ms] [-r] [command [args...]]'
  static examples = [
    '<%= config.bin %> localhost:2181 ls /brokers/ids',
    '<%= config.bin %> localhost:2181 get /controller',
    'echo "ls /" | <%= config.bin %> localhost:2181',
  ]

  private zk: ZkClient | null = null
  private host = ''
  private timeout = 30000
  private readOnly = false
  private history = new Map<number, string>()
  private commandCount = 0
  private printWatches = true
  private exitCode = OK
  /** The last parsed command (ZooKeeperMain's MyCommandOptions keeps it). */
  private lastWords: string[] | null = null

  private out(s: string): void {
    process.stdout.write(s)
  }

  private err(s: string): void {
    process.stderr.write(s)
  }

  async run(): Promise<void> {
    process.stdout.on('error', () => {})
    const argv = [...this.argv]
    if (argv.length < 1) {
      // Kafka's zookeeper-shell.sh says this on stdout before Java starts.
      this.out('USAGE: zookeeper-shell zookeeper_host:port[/path] [-zk-tls-config-file file] [args...]\n')
      process.exitCode = 1
      return
    }
    const tls = argv.indexOf('-zk-tls-config-file')
    if (tls >= 0) {
      if (tls === argv.length - 1) this.err('Exception in thread "main" java.lang.IllegalArgumentException: Error: no filename provided with option -zk-tls-config-file\n')
      else this.err('Error: -zk-tls-config-file: TLS connections to ZooKeeper are not supported by kafkit\'s zookeeper-shell\n')
      process.exitCode = 1
      return
    }
    // ZooKeeperMain.parseOptions over "-server" + the arguments.
    let server = 'localhost:2181'
    let words: string[] | null = null
    const it = ['-server', ...argv]
    for (let i = 0; i < it.length; i++) {
      const opt = it[i]
      if (opt === '-server' || opt === '-timeout') {
        if (i + 1 >= it.length) {
          this.err(`Error: no argument found for option ${opt}\n`)
          break
        }
        const v = it[++i]
        if (opt === '-server') server = v
        else this.timeout = Number.parseInt(v, 10)
      } else if (opt === '-r') {
        this.readOnly = true
      }
      if (!opt.startsWith('-')) {
        words = it.slice(i)
        break
      }
    }
    if (!Number.isInteger(this.timeout) || this.timeout <= 0) {
      this.err(`Exception in thread "main" java.lang.NumberFormatException: For input string: "${it[it.indexOf('-timeout') + 1]}"\n`)
      process.exitCode = 1
      return
    }
    this.out(`Connecting to ${server}\n`)
    try {
      await this.connectToZK(server)
    } catch (e) {
      this.err(`Exception in thread "main" ${(e as Error).message}\n`)
      process.exitCode = 1
      return
    }
    try {
      if (words === null) {
        this.out('Welcome to ZooKeeper!\nJLine support is disabled\n')
        const rl = createInterface({input: process.stdin, crlfDelay: Infinity, terminal: false})
        for await (const line of rl) {
          if (await this.executeLine(line)) break
        }
        rl.close()
      } else {
        await this.processCmd(words)
      }
    } catch (e) {
      if (e instanceof JavaCrash) {
        this.err(`Exception in thread "main" ${e.message}\n`)
      } else {
        // A reply kafkit cannot decode, or a bug: one line, never a stack trace.
        this.err(`Error: ${(e as Error).message}\n`)
      }
      this.exitCode = 1
    }
    await this.zk?.close()
    process.exitCode = this.exitCode
    process.stdin.destroy()
    setTimeout(() => process.exit(this.exitCode), 3000).unref()
  }

  private async connectToZK(newHost: string): Promise<void> {
    if (this.zk && this.zk.isAlive()) await this.closeSession()
    this.host = newHost
    const zk = new ZkClient(newHost, {sessionTimeout: this.timeout, readOnly: this.readOnly, onEvent: e => this.onEvent(e)})
    this.zk = zk
    zk.start()
  }

  /** ZooKeeper.close() as the shell's close, connect and quit call it: then the Closed event. */
  private async closeSession(): Promise<void> {
    await this.zk!.close(true)
    this.onEvent({type: -1, state: 7, path: null})
  }

  private onEvent(e: WatchedEvent): void {
    if (this.printWatches) this.out(`\nWATCHER::\n\n${eventString(e)}\n`)
  }

  /** ZooKeeperMain.executeLine; true when the shell should end (quit). */
  private async executeLine(line: string): Promise<boolean> {
    if (line === '') return false
    // A line with no word (a lone quote) leaves the previous command in place: it runs again.
    const parsed = splitArgs(line)
    if (parsed.length > 0) this.lastWords = parsed
    const words = this.lastWords
    this.history.set(this.commandCount, line)
    if (words === null) throw new JavaCrash('java.lang.NullPointerException: Cannot invoke "java.util.List.toArray(Object[])" because "this.cmdArgs" is null')
    const quit = await this.processCmd(words)
    this.commandCount++
    return quit
  }

  /** ZooKeeperMain.processCmd: runs one command, prints a CliException's message on stderr. */
  private async processCmd(words: string[]): Promise<boolean> {
    try {
      const quit = await this.processZKCmd(words)
      // quit ends the Java shell inside the command: the exit code stays the previous command's.
      if (!quit) this.exitCode = OK
      return quit
    } catch (e) {
      if (e instanceof CliError) {
        this.exitCode = e.exitCode
        this.err(`${e.message}\n`)
        return false
      }
      throw e
    }
  }

  private async processZKCmd(args: string[]): Promise<boolean> {
    const cmd = args[0]
    if (args.length < 1) {
      this.err(USAGE)
      throw new CliError('No command entered')
    }
    if (!Object.hasOwn(COMMANDS, cmd)) {
      this.err(USAGE)
      throw new CliError(`Command not found: Command not found ${cmd}`, 127)
    }
    if (cmd === 'quit') {
      if (this.zk?.isAlive()) await this.closeSession()
      return true
    } else if (cmd === 'redo' && args.length >= 2) {
      const i = decodeJavaInt(args[1])
      if (this.commandCount <= i || i < 0) throw new CliError('Command index out of range')
      const line = this.history.get(i) ?? ''
      const parsed = splitArgs(line)
      if (parsed.length > 0) this.lastWords = parsed
      const again = this.lastWords!
      if (again[0] === 'redo') throw new CliError('No redoing redos')
      this.history.set(this.commandCount, line)
      return this.processCmd(again)
    } else if (cmd === 'history') {
      for (let i = this.commandCount - 10; i <= this.commandCount; ++i) {
        if (i < 0) continue
        this.out(`${i} - ${this.history.get(i) ?? 'null'}\n`)
      }
    } else if (cmd === 'printwatches') {
      if (args.length === 1) this.out(`printwatches is ${this.printWatches ? 'on' : 'off'}\n`)
      else this.printWatches = args[1] === 'on'
    } else if (cmd === 'connect') {
      try {
        await this.connectToZK(args.length >= 2 ? args[1] : this.host)
      } catch (e) {
        throw new JavaCrash((e as Error).message)
      }
    }
    if (!this.zk || !this.zk.isAlive()) {
      this.out('Not connected\n')
      return false
    }
    if (['quit', 'redo', 'history', 'printwatches', 'connect'].includes(cmd)) return false
    await this.exec(cmd, args)
    return false
  }

  /** Parses a command's options; a Commons CLI error becomes a CliParseException. */
  private opts(spec: OptionSpec, args: string[], group?: OptionGroup) {
    return parseOptions(spec, args, group)
  }

  /** SetQuotaCommand: checks the value, then createQuota under /zookeeper/quota. */
  private async setQuota(path: string, opts: Map<string, string>): Promise<void> {
    const zk = this.zk!
    if (path.startsWith(QUOTA_ROOT)) {
      this.err(`cannot set a quota under the path: ${QUOTA_ROOT}\n`)
      return
    }
    const quota: StatsTrack = new Map([['count', '-1'], ['bytes', '-1'], ['countHardLimit', '-1'], ['byteHardLimit', '-1']])
    for (const k of ['n', 'b', 'N', 'B']) {
      if (!opts.has(k)) continue
      const v = k === 'n' || k === 'N' ? (/^[-+]?\d+$/.test(opts.get(k)!) && Math.abs(Number(opts.get(k))) <= 2147483647 ? BigInt(opts.get(k)!) : null) : parseJavaLong(opts.get(k)!)
      if (v === null) {
        this.err('NumberFormatException happens when parsing the option value\n')
        return
      }
      if (k === 'n' || k === 'N' ? v <= 0n : v < 0n) {
        this.err(k === 'n' || k === 'N' ? 'the num quota must be greater than zero\n' : 'the bytes quota must be greater than or equal to zero\n')
        return
      }
      quota.set(QUOTA_KEYS[k], String(v))
    }
    if (await zk.exists(path) === null) throw new CliError(`${path} does not exist.`)
    // A child or a parent of path with a quota of its own forbids this one.
    const own = QUOTA_ROOT + path
    const childCheck = async (qp: string) => {
      let kids: string[]
      try {
        kids = await zk.getChildren(qp)
      } catch (e) {
        if (e instanceof KeeperError) return
        throw e
      }
      if (qp !== own && kids.includes('zookeeper_limits')) throw new CliError(`${path} has a child ${qp.slice(QUOTA_ROOT.length)} which has a quota`)
    }
    try {
      await this.visitSubTreeDFS(own, false, () => {}, childCheck)
    } catch (e) {
      if (!(e instanceof KeeperError && e.code === -101)) throw e
    }
    const splits = javaSplit(path, '/')
    let qp = QUOTA_ROOT
    for (let i = 1; i < splits.length - 1; i++) {
      qp += '/' + splits[i]
      let kids: string[]
      try {
        kids = await zk.getChildren(qp)
      } catch (e) {
        if (e instanceof KeeperError && e.code === -101) break
        throw e
      }
      if (kids.length === 0) break
      if (qp !== own && kids.includes('zookeeper_limits')) throw new CliError(`${path} has a parent ${qp.slice(QUOTA_ROOT.length)} which has a quota`)
    }
    const createIgnoringExists = async (p: string, data: Buffer | null) => {
      try {
        await zk.create(p, data, OPEN_ACL_UNSAFE, Mode.PERSISTENT)
      } catch (e) {
        if (!(e instanceof KeeperError && e.code === -110)) throw e
      }
    }
    if (await zk.exists(QUOTA_ROOT) === null) {
      try {
        await zk.create('/zookeeper', null, OPEN_ACL_UNSAFE, Mode.PERSISTENT)
        await zk.create(QUOTA_ROOT, null, OPEN_ACL_UNSAFE, Mode.PERSISTENT)
      } catch (e) {
        if (!(e instanceof KeeperError && e.code === -110)) throw e
      }
    }
    qp = QUOTA_ROOT
    for (let i = 1; i < splits.length; i++) {
      qp += '/' + splits[i]
      if (await zk.exists(qp) === null) await createIgnoringExists(qp, null)
    }
    const statPath = qp + '/zookeeper_stats'
    const limitPath = qp + '/zookeeper_limits'
    let limits: StatsTrack
    if (await zk.exists(limitPath) === null) {
      await zk.create(limitPath, Buffer.from(statsText(quota)), OPEN_ACL_UNSAFE, Mode.PERSISTENT)
      await zk.create(statPath, Buffer.from('count=0,bytes=0'), OPEN_ACL_UNSAFE, Mode.PERSISTENT)
      limits = parseStats((await zk.getData(limitPath)).data)
      this.checkQuota(limits, parseStats((await zk.getData(statPath)).data))
    } else {
      limits = parseStats((await zk.getData(limitPath)).data)
      for (const key of ['count', 'bytes', 'countHardLimit', 'byteHardLimit']) {
        if (statsValue(quota, key) > -1n) limits.set(key, quota.get(key)!)
      }
      this.checkQuota(limits, parseStats((await zk.getData(statPath)).data))
      await zk.setData(limitPath, Buffer.from(statsText(limits)), -1)
    }
  }

  /** SetQuotaCommand.checkQuota: warns (stdout) when a limit is below what the subtree holds. */
  private checkQuota(quota: StatsTrack, stats: StatsTrack): void {
    const over = (soft: string, hard: string, used: string) => {
      const u = statsValue(stats, used)
      return (statsValue(quota, soft) > -1n && statsValue(quota, soft) < u) || (statsValue(quota, hard) > -1n && statsValue(quota, hard) < u)
    }
    if (over('count', 'countHardLimit', 'count')) this.out(`[Warning]: the count quota you create is less than the existing count:${statsValue(stats, 'count')}\n`)
    if (over('bytes', 'byteHardLimit', 'bytes')) this.out(`[Warning]: the bytes quota you create is less than the existing bytes:${statsValue(stats, 'bytes')}\n`)
  }

  /** DelQuotaCommand.delQuota: the named limits set back to -1, or the whole quota removed. */
  private async delQuota(path: string, flags: string[] | null): Promise<void> {
    const zk = this.zk!
    const parent = QUOTA_ROOT + path
    const limitPath = parent + '/zookeeper_limits'
    if (await zk.exists(limitPath) === null) {
      this.out(`Quota does not exist for ${path}\n`)
      return
    }
    const limits = parseStats((await zk.getData(limitPath)).data)
    if (flags === null) {
      for (const c of await zk.getChildren(parent)) await zk.delete(parent + '/' + c, -1)
      let p = parent
      while (p !== QUOTA_ROOT) {
        if ((await zk.getChildren(p)).length > 0) break
        await zk.delete(p, -1)
        p = p.slice(0, p.lastIndexOf('/'))
      }
      return
    }
    for (const f of flags) limits.set(QUOTA_KEYS[f], '-1')
    await zk.setData(limitPath, Buffer.from(statsText(limits)), -1)
  }

  /** Runs one CliCommand (parse then exec), with its error handling. */
  private async exec(cmd: string, tokens: string[]): Promise<void> {
    const zk = this.zk!
    try {
      switch (cmd) {
        case 'ls': {
          let {opts, args} = this.opts({'?': false, s: false, w: false, R: false}, tokens)
          if (opts.has('?')) this.out('usage: ls [options] path\n -?   help\n -R   recurse\n -s   stat\n -w   watch\n')
          if (args.length > 2) {
            tokens[2] = '-w'
            this.err('\'ls path [watch]\' has been deprecated. Please use \'ls [-w] path\' instead.\n')
            ;({opts, args} = this.opts({'?': false, s: false, w: false, R: false}, tokens))
          }
          if (args.length < 2) throw new CliError(usageOf('ls'))
          const path = args[1]
          const watch = opts.has('w')
          if (opts.has('R')) {
            await this.visitSubTreeDFS(path, watch, p => this.out(p + '\n'))
          } else if (opts.has('s')) {
            const {children, stat} = await zk.getChildren2(path, watch)
            this.out(`[${children.sort(javaCompare).join(', ')}]\n` + statText(stat))
          } else {
            const children = await zk.getChildren(path, watch)
            this.out(`[${children.sort(javaCompare).join(', ')}]\n`)
          }
          return
        }
        case 'get': {
          let {opts, args} = this.opts({s: false, w: false}, tokens)
          if (args.length < 2) throw new CliError(usageOf('get'))
          if (args.length > 2) {
            tokens[2] = '-w'
            this.err('\'get path [watch]\' has been deprecated. Please use \'get [-s] [-w] path\' instead.\n')
            ;({opts, args} = this.opts({s: false, w: false}, tokens))
          }
          const {data, stat} = await zk.getData(args[1], opts.has('w'))
          this.out(`${data === null ? 'null' : data.toString('utf8')}\n`)
          if (opts.has('s')) this.out(statText(stat))
          return
        }
        case 'stat': {
          let {opts, args} = this.opts({w: false}, tokens)
          if (args.length < 2) throw new CliError(usageOf('stat'))
          if (args.length > 2) {
            tokens[2] = '-w'
            this.err('\'stat path [watch]\' has been deprecated. Please use \'stat [-w] path\' instead.\n')
            ;({opts, args} = this.opts({w: false}, tokens))
          }
          const stat = await zk.exists(args[1], opts.has('w'))
          if (stat === null) throw new KeeperError(-101, args[1])
          this.out(statText(stat))
          return
        }
        case 'create': return await this.create(tokens)
        case 'set': {
          const {opts, args} = this.opts({s: false, v: true}, tokens)
          if (args.length < 3) throw new CliError(usageOf('set'))
          const data = Buffer.from(args[2], 'utf8')
          const version = opts.has('v') ? parseJavaInt(opts.get('v')!) : -1
          const stat = await zk.setData(args[1], data, version)
          if (opts.has('s')) this.out(statText(stat))
          return
        }
        case 'delete': {
          const {opts, args} = this.opts({v: true}, tokens)
          if (args.length < 2) throw new CliError(usageOf('delete'))
          if (args.length > 2) this.err('\'delete path [version]\' has been deprecated. Please use \'delete [-v version] path\' instead.\n')
          const version = opts.has('v') ? parseJavaInt(opts.get('v')!) : -1
          await zk.delete(args[1], version)
          return
        }
        case 'deleteall': {
          const {opts, args} = this.opts({b: true}, tokens)
          if (args.length < 2) throw new CliError(usageOf('deleteall'))
          let batch = 0
          if (opts.has('b')) {
            const v = opts.get('b')!
            if (!/^[-+]?\d+$/.test(v) || Math.abs(Number(v)) > 2147483647) throw new CliError('-b argument must be an int value')
            batch = Number(v)
          }
          if (!await this.deleteRecursive(args[1], batch)) this.err('Failed to delete some node(s) in the subtree!\n')
          return
        }
        case 'getAcl': {
          const {opts, args} = this.opts({s: false}, tokens)
          if (args.length < 2) throw new CliError(usageOf('getAcl'))
          const {acl, stat} = await zk.getACL(args[1])
          for (const a of acl) this.out(`${csv(a.scheme)},${csv(a.id)}\n: ${permString(a.perms)}\n`)
          if (opts.has('s')) this.out(statText(stat))
          return
        }
        case 'setAcl': {
          const {opts, args} = this.opts({s: false, v: true, R: false}, tokens)
          if (args.length < 3) throw new CliError(usageOf('setAcl'))
          const path = args[1]
          const acl = this.parseAcl(args[2])
          const version = opts.has('v') ? parseJavaInt(opts.get('v')!) : -1
          if (opts.has('R')) {
            await this.visitSubTreeDFS(path, false, () => {}, async p => {
              try {
                await zk.setACL(p, acl, version)
              } catch (e) {
                if (e instanceof KeeperError) this.out(e.message)
                else throw e
              }
            })
          } else {
            const stat = await zk.setACL(path, acl, version)
            if (opts.has('s')) this.out(statText(stat))
          }
          return
        }
        case 'addauth': {
          const {args} = this.opts({}, tokens)
          if (args.length < 2) throw new CliError(usageOf('addauth'))
          zk.addAuthInfo(args[1], args.length > 2 ? Buffer.from(args[2], 'utf8') : null)
          return
        }
        case 'sync': {
          const {args} = this.opts({}, tokens)
          if (args.length < 2) throw new CliError(usageOf('sync'))
          const rc = await zk.sync(args[1])
          this.out(rc === 0 ? 'Sync is OK\n' : `Sync has failed. rc=${rc}\n`)
          return
        }
        case 'getEphemerals': {
          const {args} = this.opts({}, tokens)
          const list = args.length < 2 ? await zk.getEphemerals() : await zk.getEphemerals(args[1])
          this.out(`[${list.join(', ')}]\n`)
          return
        }
        case 'getAllChildrenNumber': {
          const {args} = this.opts({}, tokens)
          if (args.length < 2) throw new CliError(usageOf('getAllChildrenNumber'))
          this.out(`${await zk.getAllChildrenNumber(args[1])}\n`)
          return
        }
        case 'addWatch': {
          const {opts, args} = this.opts({m: true}, tokens)
          if (args.length !== 2) throw new CliError(usageOf('addWatch'))
          let mode = 1
          if (opts.has('m')) {
            const m = opts.get('m')!.toUpperCase()
            if (m === 'PERSISTENT') mode = 0
            else if (m !== 'PERSISTENT_RECURSIVE') throw new CliError(usageOf('addWatch'))
          }
          await zk.addWatch(args[1], mode)
          return
        }
        case 'removewatches': {
          const {opts, args} = this.opts({c: false, d: false, a: false, l: false}, tokens)
          if (args.length < 2) throw new CliError(usageOf('removewatches'))
          const type = opts.has('c') ? 1 : opts.has('d') ? 2 : 3
          await zk.removeAllWatches(args[1], type, opts.has('l'))
          return
        }
        case 'whoami': {
          // ZooKeeper.whoAmI() answers null when the request fails: the header alone, no error.
          const who = await zk.whoAmI().catch(e => { if (e instanceof KeeperError) return []; throw e })
          this.out('Auth scheme: User\n' + who.map(w => `${w.scheme}: ${w.user}\n`).join(''))
          return
        }
        case 'version':
          this.out(`ZooKeeper CLI version: ${ZK_CLI_VERSION} (kafkit ${this.config.version})\n`)
          return
        case 'config': {
          const {opts, args} = this.opts({s: false, w: false, c: false}, tokens)
          if (args.length < 1) throw new CliError(usageOf('config'))
          const {data, stat} = await zk.getConfig(opts.has('w'))
          const text = data === null ? 'null' : data.toString('utf8')
          this.out(`${opts.has('c') ? clientConfigStr(text) : text}\n`)
          if (opts.has('s')) this.out(statText(stat))
          return
        }
        case 'close':
          await this.closeSession()
          return
        case 'listquota': {
          const {args} = this.opts({}, tokens)
          if (args.length < 2) throw new CliError(usageOf('listquota'))
          const path = args[1]
          const limits = `/zookeeper/quota${path}/zookeeper_limits`
          this.err(`absolute path is ${limits}\n`)
          let quota: string, stats: string
          try {
            quota = statsText(parseStats((await zk.getData(limits)).data))
            stats = statsText(parseStats((await zk.getData(`/zookeeper/quota${path}/zookeeper_stats`)).data))
          } catch (e) {
            if (e instanceof KeeperError && e.code === -101) {
              this.err(`quota for ${path} does not exist.\n`)
              return
            }
            throw e
          }
          this.out(`Output quota for ${path} ${quota}\nOutput stat for ${path} ${stats}\n`)
          return
        }
        case 'setquota': {
          const {opts, args} = this.opts({n: true, b: true, N: true, B: true}, tokens, {keys: ['n', 'b', 'N', 'B'], required: true, describe: QUOTA_GROUP})
          if (args.length < 2) throw new CliError(usageOf('setquota'))
          return await this.setQuota(args[1], opts)
        }
        case 'delquota': {
          const {opts, args} = this.opts({n: false, b: false, N: false, B: false}, tokens, {keys: ['n', 'b', 'N', 'B'], required: false, describe: QUOTA_GROUP})
          if (args.length < 2) throw new CliError(usageOf('delquota'))
          const flags = ['n', 'b', 'N', 'B'].filter(k => opts.has(k))
          try {
            await this.delQuota(args[1], flags.length > 0 ? flags : null)
          } catch (e) {
            if (e instanceof KeeperError && e.code === -101) {
              this.err(`quota for ${args[1]} does not exist.\n`)
              return
            }
            throw e
          }
          return
        }
        case 'reconfig': {
          const {opts} = this.opts({s: false, v: true, file: true, members: true, add: true, remove: true}, tokens)
          const nonIncremental = opts.has('file') || opts.has('members')
          if (!nonIncremental && !opts.has('add') && !opts.has('remove')) throw new CliError(usageOf('reconfig'))
          let version = -1n
          if (opts.has('v')) {
            const v = opts.get('v')!
            if (!/^[-+]?[0-9a-fA-F]+$/.test(v) || BigInt.asIntN(64, BigInt('0x' + v.replace(/^[-+]/, ''))) !== BigInt('0x' + v.replace(/^[-+]/, ''))) throw new CliError('-v must be followed by a long (configuration version)')
            version = BigInt('0x' + v.replace(/^[-+]/, '')) * (v.startsWith('-') ? -1n : 1n)
          }
          if (nonIncremental && (opts.has('add') || opts.has('remove'))) throw new CliError('Can\'t use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)')
          if (opts.has('file') && opts.has('members')) throw new CliError('Can\'t use -file and -members together (conflicting non-incremental modes)')
          if (opts.has('file')) throw new CliError(`Error processing ${opts.get('file')}: -file is not supported by kafkit's zookeeper-shell (use -members)`)
          const lower = (k: string) => opts.has(k) ? opts.get(k)!.toLowerCase() : null
          const {data, stat} = await zk.reconfig(lower('add'), lower('remove'), lower('members'), version)
          this.out(`Committed new configuration:\n${data === null ? '' : data.toString('utf8')}\n`)
          if (opts.has('s')) this.out(statText(stat))
          return
        }
      }
    } catch (e) {
      if (e instanceof PathError) throw new CliError(e.message)
      if (e instanceof KeeperError) {
        if (e.code === -114 && cmd === 'create') this.err(`${e.message}\n`)
        throw new CliError(wrapperMessage(e))
      }
      throw e
    }
  }

  private async create(tokens: string[]): Promise<void> {
    const zk = this.zk!
    const {opts, args} = this.opts({e: false, s: false, c: false, t: true}, tokens)
    if (args.length < 2) throw new CliError(usageOf('create'))
    const hasE = opts.has('e'), hasS = opts.has('s'), hasC = opts.has('c'), hasT = opts.has('t')
    if (hasC && (hasE || hasS)) throw new CliError('-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.')
    let ttl = 0n
    if (hasT) {
      const v = parseJavaLong(opts.get('t')!)
      if (v === null) throw new CliError('-t argument must be a long value')
      ttl = v
    }
    if (hasT && hasE) throw new CliError('TTLs cannot be used with Ephemeral znodes')
    if (hasT && hasC) throw new CliError('TTLs cannot be used with Container znodes')
    const mode = hasE && hasS ? Mode.EPHEMERAL_SEQUENTIAL : hasE ? Mode.EPHEMERAL
      : hasS ? (hasT ? Mode.PERSISTENT_SEQUENTIAL_WITH_TTL : Mode.PERSISTENT_SEQUENTIAL)
        : hasC ? Mode.CONTAINER : hasT ? Mode.PERSISTENT_WITH_TTL : Mode.PERSISTENT
    if (hasT && (ttl > MAX_TTL || ttl <= 0n)) throw new CliError(`ttl must be positive and cannot be larger than: ${MAX_TTL}`)
    const path = args[1]
    const data = args.length > 2 ? Buffer.from(args[2], 'utf8') : null
    const acl = args.length > 3 ? this.parseAcl(args[3]) : OPEN_ACL_UNSAFE
    const created = await zk.create(path, data, acl, mode, hasT ? Number(ttl) : -1)
    this.err(`Created ${created}\n`)
  }

  /** AclParser.parse: bad entries are reported on stderr and skipped. */
  private parseAcl(s: string): Acl[] {
    const out: Acl[] = []
    for (const a of javaSplit(s, ',')) {
      const first = a.indexOf(':')
      const last = a.lastIndexOf(':')
      if (first === -1 || first === last) {
        this.err(`${a} does not have the form scheme:id:perm\n`)
        continue
      }
      let perms = 0
      for (const ch of a.slice(last + 1)) {
        const bit = ({r: 1, w: 2, c: 4, d: 8, a: 16} as Record<string, number>)[ch]
        if (bit === undefined) this.err(`Unknown perm type: ${ch}\n`)
        else perms |= bit
      }
      out.push({perms, scheme: a.slice(0, first), id: a.slice(first + 1, last)})
    }
    return out
  }

  /** ZKUtil.visitSubTreeDFS: the root, then each level's sorted children, depth first. */
  private async visitSubTreeDFS(path: string, watch: boolean, visit: (p: string) => void, act?: (p: string) => Promise<void>): Promise<void> {
    const zk = this.zk!
    await zk.getData(path, watch)
    visit(path)
    if (act) await act(path)
    const helper = async (p: string): Promise<void> => {
      let children: string[]
      try {
        children = (await zk.getChildren(p, watch)).sort(javaCompare)
      } catch (e) {
        if (e instanceof KeeperError && e.code === -101) return
        throw e
      }
      const base = p.length === 1 ? p : p + '/'
      for (const c of children) {
        visit(base + c)
        if (act) await act(base + c)
      }
      for (const c of children) await helper(base + c)
    }
    await helper(path)
  }

  /** ZKUtil.deleteRecursive: the subtree breadth first, deleted leaves first (in multis of batch). */
  private async deleteRecursive(root: string, batch: number): Promise<boolean> {
    const zk = this.zk!
    validatePath(root)
    const tree = [root]
    for (let i = 0; i < tree.length; i++) {
      const node = tree[i]
      for (const c of await zk.getChildren(node)) tree.push((node === '/' ? '' : node) + '/' + c)
    }
    if (batch <= 0) {
      for (let i = tree.length - 1; i >= 0; i--) await zk.delete(tree[i], -1)
      return true
    }
    let ok = true
    let ops: Array<{path: string; version: number}> = []
    for (let i = tree.length - 1; i >= 0; i--) {
      ops.push({path: tree[i], version: -1})
      if (ops.length === batch || i === 0) {
        if (!ok) break
        if (!await zk.multiDelete(ops)) ok = false
        ops = []
      }
    }
    return ok
  }
}


/** String.compareTo: UTF-16 code unit order (what Collections.sort uses). */
function javaCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** String.split(sep) in Java: trailing empty strings removed. */
function javaSplit(s: string, sep: string): string[] {
  const parts = s.split(sep)
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop()
  if (parts.length === 1 && parts[0] === '' && s.length > 0) return []
  return parts
}

/** Apache's StatsTrack: count, bytes and further limits, as "count=N,bytes=M[=;key=value...]". */
type StatsTrack = Map<string, string>

function parseStats(data: Buffer | null): StatsTrack {
  const stats: StatsTrack = new Map()
  const text = data === null ? '' : data.toString('utf8')
  if (text === '') return stats
  for (const kv of text.split(/[,;]/)) {
    const [k, v] = kv.split('=')
    if (k !== '' && v !== undefined && v !== '') stats.set(k, v)
  }
  return stats
}

function statsValue(s: StatsTrack, key: string): bigint {
  const v = s.get(key)
  return v === undefined ? -1n : BigInt(v)
}

function statsText(stats: StatsTrack): string {
  const keys = [...stats.keys()].filter(k => k !== 'count' && k !== 'bytes').sort(javaCompare)
  let out = `count=${stats.get('count') ?? -1},bytes=${stats.get('bytes') ?? -1}`
  if (keys.length > 0) out += '=' + keys.map(k => `;${k}=${stats.get(k)}`).join('')
  return out
}

const QUOTA_ROOT = '/zookeeper/quota'
const QUOTA_GROUP = '[-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]'
const QUOTA_KEYS: Record<string, string> = {n: 'count', b: 'bytes', N: 'countHardLimit', B: 'byteHardLimit'}

/** ConfigUtils.getClientConfigStr: "version host:port,host:port" from a dynamic config (servers in file order). */
function clientConfigStr(config: string): string {
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
