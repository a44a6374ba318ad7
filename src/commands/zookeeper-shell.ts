// zookeeper-shell: Apache ZooKeeper's command-line shell as Kafka ships it
// (`zookeeper-shell host:port [command...]`): one command when given, else interactive.
// Output lines follow ZooKeeperMain's (ls prints [a, b], stat prints cZxid = 0x...).
import {Args, Command} from '@oclif/core'
import {createRequire} from 'node:module'
import {createInterface} from 'node:readline'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const zookeeper: any = createRequire(import.meta.url)('node-zookeeper-client')

const PERMS: Array<[string, number]> = [['c', 4], ['d', 8], ['r', 1], ['w', 2], ['a', 16]]

function permString(p: number): string {
  return PERMS.filter(([, bit]) => (p & bit) !== 0).map(([c]) => c).join('')
}

function parsePerms(s: string): number {
  let p = 0
  for (const ch of s) {
    const e = PERMS.find(([c]) => c === ch)
    if (!e) throw new ShellError(`${s} is not a valid permission string`)
    p |= e[1]
  }
  return p
}

class ShellError extends Error {}

const EVENT_NAMES: Record<number, string> = {1: 'NodeCreated', 2: 'NodeDeleted', 3: 'NodeDataChanged', 4: 'NodeChildrenChanged'}

function hex(b: Buffer): string {
  return '0x' + BigInt.asUintN(64, b.readBigInt64BE()).toString(16)
}

/** java.util.Date#toString in UTC: Mon Nov 23 23:12:00 UTC 2026. */
function dateOf(b: Buffer): string {
  const d = new Date(Number(b.readBigInt64BE()))
  const [dow, , , , time] = d.toUTCString().split(' ')
  const mon = d.toUTCString().split(' ')[2]
  return `${dow.replace(',', '')} ${mon} ${String(d.getUTCDate()).padStart(2, '0')} ${time} UTC ${d.getUTCFullYear()}`
}

interface ZkStat {
  czxid: Buffer; mzxid: Buffer; ctime: Buffer; mtime: Buffer; pzxid: Buffer; ephemeralOwner: Buffer
  version: number; cversion: number; aversion: number; dataLength: number; numChildren: number
}

function statLines(s: ZkStat): string {
  return [
    `cZxid = ${hex(s.czxid)}`, `ctime = ${dateOf(s.ctime)}`, `mZxid = ${hex(s.mzxid)}`, `mtime = ${dateOf(s.mtime)}`,
    `pZxid = ${hex(s.pzxid)}`, `cversion = ${s.cversion}`, `dataVersion = ${s.version}`, `aclVersion = ${s.aversion}`,
    `ephemeralOwner = ${hex(s.ephemeralOwner)}`, `dataLength = ${s.dataLength}`, `numChildren = ${s.numChildren}`,
  ].join('\n') + '\n'
}

/** Apache ZooKeeper's messages for the KeeperExceptions a shell user meets. */
function keeperMessage(code: number, path: string): string {
  switch (code) {
    case -101: return `Node does not exist: ${path}`
    case -110: return `Node already exists: ${path}`
    case -111: return `Node not empty: ${path}`
    case -102: return `Insufficient permission : ${path}`
    case -103: return `version No is not valid : ${path}`
    case -108: return `Ephemerals cannot have children: ${path}`
    case -114: return `Acl is not valid : ${path}`
    case -8: return `Invalid arguments: ${path}`
    default: return `KeeperErrorCode = ${code} for ${path}`
  }
}

function parseAcl(spec: string): unknown[] {
  return spec.split(',').filter(x => x !== '').map(entry => {
    const first = entry.indexOf(':')
    const last = entry.lastIndexOf(':')
    if (first < 0 || first === last) throw new ShellError(`${entry} does not have the form scheme:id:perm`)
    return new zookeeper.ACL(parsePerms(entry.slice(last + 1)), new zookeeper.Id(entry.slice(0, first), entry.slice(first + 1, last)))
  })
}

/** Splits a command line on spaces, keeping "quoted strings" and 'quoted strings' whole. */
export function splitArgs(line: string): string[] {
  const out: string[] = []
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g
  let m: RegExpExecArray | null
  while ((m = re.exec(line)) !== null) out.push(m[1] ?? m[2] ?? m[3])
  return out
}

const HELP = `ZooKeeper -server host:port cmd args
\taddauth scheme auth
\tcreate [-s] [-e] [-c] path [data] [acl]
\tdelete [-v version] path
\tdeleteall path
\tget [-s] [-w] path
\tgetAcl [-s] path
\tls [-s] [-w] [-R] path
\tquit
\tset [-s] [-v version] path data
\tsetAcl [-s] [-v version] path acl
\tstat [-w] path
`

export default class ZooKeeperShell extends Command {
  static summary = 'Apache ZooKeeper\'s command-line shell.'
  static description = 'Connects to a ZooKeeper server (kafkit\'s or Apache\'s) and runs one command (ls, get, stat, create [-e] [-s], set, delete, deleteall, getAcl, setAcl, addauth), or reads commands interactively when none is given.'
  static strict = false
  static examples = [
    '<%= config.bin %> localhost:2181 ls /brokers/ids',
    '<%= config.bin %> localhost:2181 get /controller',
    '<%= config.bin %> localhost:2181',
  ]
  static args = {
    server: Args.string({required: true, description: 'host:port of the ZooKeeper server'}),
  }

  private client: any
  private out: string[] = []

  async run(): Promise<void> {
    const {args, argv} = await this.parse(ZooKeeperShell)
    const words = (argv as string[]).slice(1)
    const server = args.server
    if (!/^[^:\s]+:\d+(,[^:\s]+:\d+)*(\/.*)?$/.test(server)) {
      process.stderr.write(`Error: invalid server ${server}: expected host:port\n`)
      process.exit(1)
    }
    process.stdout.write(`Connecting to ${server}\n`)
    this.client = zookeeper.createClient(server, {sessionTimeout: 30000, retries: 0})
    const connected = new Promise<boolean>(resolve => {
      const t = setTimeout(() => resolve(false), 15000)
      this.client.once('connected', () => { clearTimeout(t); resolve(true) })
    })
    this.client.connect()
    if (!(await connected)) {
      process.stderr.write(`Error: cannot connect to ${server}\n`)
      process.exit(1)
    }
    process.stdout.write('\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n')
    if (words.length > 0) {
      const ok = await this.exec(words)
      this.client.close()
      process.exit(ok ? 0 : 1)
    }
    const rl = createInterface({input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY === true})
    let n = 0
    const prompt = () => { if (process.stdin.isTTY) process.stdout.write(`[zk: ${server}(CONNECTED) ${n}] `) }
    prompt()
    for await (const line of rl) {
      const w = splitArgs(line)
      if (w.length > 0) {
        if (w[0] === 'quit' || w[0] === 'exit') break
        await this.exec(w)
        n++
      }
      prompt()
    }
    this.client.close()
    process.exit(0)
  }

  private call<T>(method: string, ...a: unknown[]): Promise<T> {
    return new Promise((resolve, reject) => {
      this.client[method](...a, (err: Error | null, ...rest: unknown[]) => err ? reject(err) : resolve(rest as T))
    })
  }

  /** Runs one command; prints its output or one error line; false on failure. */
  async exec(words: string[]): Promise<boolean> {
    const [cmd, ...rest] = words
    const flags = new Set<string>()
    const opts: Record<string, string> = {}
    const pos: string[] = []
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]
      if (a === '-v' || a === '-t') { opts[a] = rest[++i] ?? ''; continue }
      if (/^-[a-zA-Z]$/.test(a)) { flags.add(a); continue }
      pos.push(a)
    }
    const path = pos[0] ?? ''
    const write = (s: string) => process.stdout.write(s)
    // -w leaves a watch; its event prints as ZooKeeperMain prints it.
    const watcher = flags.has('-w') ? [(ev: {getType(): number; getPath(): string}) => {
      write(`\nWATCHER::\n\nWatchedEvent state:SyncConnected type:${EVENT_NAMES[ev.getType()] ?? ev.getType()} path:${ev.getPath()}\n`)
    }] : []
    try {
      switch (cmd) {
        case 'ls': {
          if (!path) throw new ShellError('ls [-s] [-w] [-R] path')
          if (flags.has('-R')) {
            const walk = async (p: string): Promise<void> => {
              write(p + '\n')
              const [kids] = await this.call<[string[]]>('getChildren', p)
              for (const k of kids.sort()) await walk(p === '/' ? `/${k}` : `${p}/${k}`)
            }
            await walk(path)
            return true
          }
          const [kids, st] = await this.call<[string[], ZkStat]>('getChildren', path, ...watcher)
          write(`[${kids.sort().join(', ')}]\n`)
          if (flags.has('-s')) write(statLines(st))
          return true
        }
        case 'get': {
          if (!path) throw new ShellError('get [-s] [-w] path')
          const [data, st] = await this.call<[Buffer | null, ZkStat]>('getData', path, ...watcher)
          write(`${data === null || data === undefined ? 'null' : data.toString('utf8')}\n`)
          if (flags.has('-s')) write(statLines(st))
          return true
        }
        case 'stat': {
          if (!path) throw new ShellError('stat [-w] path')
          const [st] = await this.call<[ZkStat | null]>('exists', path, ...watcher)
          if (!st) throw Object.assign(new Error('no node'), {code: -101})
          write(statLines(st))
          return true
        }
        case 'create': {
          if (!path) throw new ShellError('create [-s] [-e] [-c] [-t ttl] path [data] [acl]')
          const seq = flags.has('-s'), eph = flags.has('-e')
          if (flags.has('-c') || opts['-t'] !== undefined) throw new ShellError('containers and TTL nodes (-c, -t) are not supported by this shell yet')
          const mode = eph ? (seq ? zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL : zookeeper.CreateMode.EPHEMERAL) : (seq ? zookeeper.CreateMode.PERSISTENT_SEQUENTIAL : zookeeper.CreateMode.PERSISTENT)
          const data = pos[1] === undefined ? null : Buffer.from(pos[1])
          const acl = pos[2] === undefined ? zookeeper.ACL.OPEN_ACL_UNSAFE : parseAcl(pos[2])
          const [created] = await this.call<[string]>('create', path, data, acl, mode)
          write(`Created ${created}\n`)
          return true
        }
        case 'set': {
          if (pos.length < 2) throw new ShellError('set [-s] [-v version] path data')
          const version = opts['-v'] === undefined ? -1 : Number(opts['-v'])
          const [st] = await this.call<[ZkStat]>('setData', path, Buffer.from(pos[1]), version)
          if (flags.has('-s')) write(statLines(st))
          return true
        }
        case 'delete': case 'rmr': case 'deleteall': {
          if (!path) throw new ShellError(`${cmd} path`)
          if (cmd === 'delete') {
            const version = opts['-v'] === undefined ? -1 : Number(opts['-v'])
            await this.call('remove', path, version)
            return true
          }
          const del = async (p: string): Promise<void> => {
            const [kids] = await this.call<[string[]]>('getChildren', p)
            for (const k of kids) await del(p === '/' ? `/${k}` : `${p}/${k}`)
            if (p !== '/' && p !== '/zookeeper' && !p.startsWith('/zookeeper/')) await this.call('remove', p, -1)
          }
          await del(path)
          return true
        }
        case 'getAcl': {
          if (!path) throw new ShellError('getAcl [-s] path')
          const [acls, st] = await this.call<[Array<{permission: number; id: {scheme: string; id: string}}>, ZkStat]>('getACL', path)
          for (const a of acls) write(`'${a.id.scheme},'${a.id.id}\n: ${permString(a.permission)}\n`)
          if (flags.has('-s')) write(statLines(st))
          return true
        }
        case 'setAcl': {
          if (pos.length < 2) throw new ShellError('setAcl [-s] [-v version] path acl')
          const version = opts['-v'] === undefined ? -1 : Number(opts['-v'])
          const [st] = await this.call<[ZkStat]>('setACL', path, parseAcl(pos[1]), version)
          if (flags.has('-s')) write(statLines(st))
          return true
        }
        case 'addauth': {
          if (pos.length < 1) throw new ShellError('addauth scheme auth')
          this.client.addAuthInfo(pos[0], Buffer.from(pos[1] ?? ''))
          await this.call('exists', '/')
          return true
        }
        case 'help': case undefined:
          write(HELP)
          return true
        default:
          write(HELP)
          return false
      }
    } catch (e) {
      const code = typeof (e as {getCode?: () => number}).getCode === 'function' ? (e as {getCode(): number}).getCode() : (e as {code?: number}).code
      if (e instanceof ShellError) process.stderr.write(`${e.message}\n`)
      else if (typeof code === 'number') process.stderr.write(`${keeperMessage(code, path)}\n`)
      else process.stderr.write(`Error: ${(e as Error).message}\n`)
      return false
    }
  }
}
