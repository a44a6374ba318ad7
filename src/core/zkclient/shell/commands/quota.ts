// zkCli's quota commands: setquota, listquota, delquota, with Apache's StatsTrack format and
// the checks SetQuotaCommand and DelQuotaCommand make.
import {KeeperError} from '../../client.js'
import {Mode, OPEN_ACL_UNSAFE} from '../../codec.js'
import {parseOptions, parseJavaLong, CliError} from '../../options.js'
import {javaCompare, javaSplit, usageOf} from '../format.js'
import type {CliCommand, ShellContext} from '../context.js'
import {visitSubTreeDFS} from '../tree.js'

/** Apache's StatsTrack: count, bytes and further limits, as "count=N,bytes=M[=;key=value...]". */
export type StatsTrack = Map<string, string>

export function parseStats(data: Buffer | null): StatsTrack {
  const stats: StatsTrack = new Map()
  const text = data === null ? '' : data.toString('utf8')
  if (text === '') return stats
  for (const kv of text.split(/[,;]/)) {
    const [k, v] = kv.split('=')
    if (k !== '' && v !== undefined && v !== '') stats.set(k, v)
  }
  return stats
}

export function statsValue(s: StatsTrack, key: string): bigint {
  const v = s.get(key)
  return v === undefined ? -1n : BigInt(v)
}

export function statsText(stats: StatsTrack): string {
  const keys = [...stats.keys()].filter(k => k !== 'count' && k !== 'bytes').sort(javaCompare)
  let out = `count=${stats.get('count') ?? -1},bytes=${stats.get('bytes') ?? -1}`
  if (keys.length > 0) out += '=' + keys.map(k => `;${k}=${stats.get(k)}`).join('')
  return out
}

export const QUOTA_ROOT = '/zookeeper/quota'
export const QUOTA_GROUP = '[-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]'
export const QUOTA_KEYS: Record<string, string> = {n: 'count', b: 'bytes', N: 'countHardLimit', B: 'byteHardLimit'}

/** SetQuotaCommand.checkQuota: warns (stdout) when a limit is below what the subtree holds. */
function checkQuota(ctx: ShellContext, quota: StatsTrack, stats: StatsTrack): void {
  const over = (soft: string, hard: string, used: string) => {
    const u = statsValue(stats, used)
    return (statsValue(quota, soft) > -1n && statsValue(quota, soft) < u) || (statsValue(quota, hard) > -1n && statsValue(quota, hard) < u)
  }
  if (over('count', 'countHardLimit', 'count')) ctx.out(`[Warning]: the count quota you create is less than the existing count:${statsValue(stats, 'count')}\n`)
  if (over('bytes', 'byteHardLimit', 'bytes')) ctx.out(`[Warning]: the bytes quota you create is less than the existing bytes:${statsValue(stats, 'bytes')}\n`)
}

/** SetQuotaCommand: checks the value, then createQuota under /zookeeper/quota. */
async function setQuota(ctx: ShellContext, path: string, opts: Map<string, string>): Promise<void> {
  const zk = ctx.zk
  if (path.startsWith(QUOTA_ROOT)) {
    ctx.err(`cannot set a quota under the path: ${QUOTA_ROOT}\n`)
    return
  }
  const quota: StatsTrack = new Map([['count', '-1'], ['bytes', '-1'], ['countHardLimit', '-1'], ['byteHardLimit', '-1']])
  for (const k of ['n', 'b', 'N', 'B']) {
    if (!opts.has(k)) continue
    const v = k === 'n' || k === 'N' ? (/^[-+]?\d+$/.test(opts.get(k)!) && Math.abs(Number(opts.get(k))) <= 2147483647 ? BigInt(opts.get(k)!) : null) : parseJavaLong(opts.get(k)!)
    if (v === null) {
      ctx.err('NumberFormatException happens when parsing the option value\n')
      return
    }
    if (k === 'n' || k === 'N' ? v <= 0n : v < 0n) {
      ctx.err(k === 'n' || k === 'N' ? 'the num quota must be greater than zero\n' : 'the bytes quota must be greater than or equal to zero\n')
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
    await visitSubTreeDFS(zk, own, false, () => {}, childCheck)
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
    checkQuota(ctx, limits, parseStats((await zk.getData(statPath)).data))
  } else {
    limits = parseStats((await zk.getData(limitPath)).data)
    for (const key of ['count', 'bytes', 'countHardLimit', 'byteHardLimit']) {
      if (statsValue(quota, key) > -1n) limits.set(key, quota.get(key)!)
    }
    checkQuota(ctx, limits, parseStats((await zk.getData(statPath)).data))
    await zk.setData(limitPath, Buffer.from(statsText(limits)), -1)
  }
}

/** DelQuotaCommand.delQuota: the named limits set back to -1, or the whole quota removed. */
async function delQuota(ctx: ShellContext, path: string, flags: string[] | null): Promise<void> {
  const zk = ctx.zk
  const parent = QUOTA_ROOT + path
  const limitPath = parent + '/zookeeper_limits'
  if (await zk.exists(limitPath) === null) {
    ctx.out(`Quota does not exist for ${path}\n`)
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

export const setquota: CliCommand = {
  async run(ctx, tokens) {
    const {opts, args} = parseOptions({n: true, b: true, N: true, B: true}, tokens, {keys: ['n', 'b', 'N', 'B'], required: true, describe: QUOTA_GROUP})
    if (args.length < 2) throw new CliError(usageOf('setquota'))
    await setQuota(ctx, args[1], opts)
  },
}

export const listquota: CliCommand = {
  async run(ctx, tokens) {
    const {args} = parseOptions({}, tokens)
    if (args.length < 2) throw new CliError(usageOf('listquota'))
    const path = args[1]
    const limits = `/zookeeper/quota${path}/zookeeper_limits`
    ctx.err(`absolute path is ${limits}\n`)
    let quota: string, stats: string
    try {
      quota = statsText(parseStats((await ctx.zk.getData(limits)).data))
      stats = statsText(parseStats((await ctx.zk.getData(`/zookeeper/quota${path}/zookeeper_stats`)).data))
    } catch (e) {
      if (e instanceof KeeperError && e.code === -101) {
        ctx.err(`quota for ${path} does not exist.\n`)
        return
      }
      throw e
    }
    ctx.out(`Output quota for ${path} ${quota}\nOutput stat for ${path} ${stats}\n`)
  },
}

export const delquota: CliCommand = {
  async run(ctx, tokens) {
    const {opts, args} = parseOptions({n: false, b: false, N: false, B: false}, tokens, {keys: ['n', 'b', 'N', 'B'], required: false, describe: QUOTA_GROUP})
    if (args.length < 2) throw new CliError(usageOf('delquota'))
    const flags = ['n', 'b', 'N', 'B'].filter(k => opts.has(k))
    try {
      await delQuota(ctx, args[1], flags.length > 0 ? flags : null)
    } catch (e) {
      if (e instanceof KeeperError && e.code === -101) {
        ctx.err(`quota for ${args[1]} does not exist.\n`)
        return
      }
      throw e
    }
  },
}
