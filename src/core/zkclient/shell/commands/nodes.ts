// zkCli's commands on znodes: ls, get, stat, create, set, delete, deleteall, sync,
// getEphemerals, getAllChildrenNumber.
import {KeeperError} from '../../client.js'
import {Mode, OPEN_ACL_UNSAFE} from '../../codec.js'
import {parseOptions, parseJavaInt, parseJavaLong, CliError} from '../../options.js'
import {javaCompare, statText, usageOf} from '../format.js'
import {parseAcl, type CliCommand} from '../context.js'
import {visitSubTreeDFS, deleteRecursive} from '../tree.js'

const MAX_TTL = 0xffffffffffn // EphemeralType.TTL's 40-bit limit

/** The 3.4-era form `cmd path watch`: -w in its place, after the deprecation warning. */
function legacyWatch(tokens: string[], spec: Record<string, boolean>, warning: string, err: (s: string) => void) {
  tokens[2] = '-w'
  err(warning)
  return parseOptions(spec, tokens)
}

export const ls: CliCommand = {
  async run(ctx, tokens) {
    const spec = {'?': false, s: false, w: false, R: false}
    let {opts, args} = parseOptions(spec, tokens)
    if (opts.has('?')) ctx.out('usage: ls [options] path\n -?   help\n -R   recurse\n -s   stat\n -w   watch\n')
    if (args.length > 2) ({opts, args} = legacyWatch(tokens, spec, '\'ls path [watch]\' has been deprecated. Please use \'ls [-w] path\' instead.\n', s => ctx.err(s)))
    if (args.length < 2) throw new CliError(usageOf('ls'))
    const path = args[1]
    const watch = opts.has('w')
    if (opts.has('R')) {
      await visitSubTreeDFS(ctx.zk, path, watch, p => ctx.out(p + '\n'))
    } else if (opts.has('s')) {
      const {children, stat} = await ctx.zk.getChildren2(path, watch)
      ctx.out(`[${children.sort(javaCompare).join(', ')}]\n` + statText(stat))
    } else {
      const children = await ctx.zk.getChildren(path, watch)
      ctx.out(`[${children.sort(javaCompare).join(', ')}]\n`)
    }
  },
}

export const get: CliCommand = {
  async run(ctx, tokens) {
    const spec = {s: false, w: false}
    let {opts, args} = parseOptions(spec, tokens)
    if (args.length < 2) throw new CliError(usageOf('get'))
    if (args.length > 2) ({opts, args} = legacyWatch(tokens, spec, '\'get path [watch]\' has been deprecated. Please use \'get [-s] [-w] path\' instead.\n', s => ctx.err(s)))
    const {data, stat} = await ctx.zk.getData(args[1], opts.has('w'))
    ctx.out(`${data === null ? 'null' : data.toString('utf8')}\n`)
    if (opts.has('s')) ctx.out(statText(stat))
  },
}

export const stat: CliCommand = {
  async run(ctx, tokens) {
    const spec = {w: false}
    let {opts, args} = parseOptions(spec, tokens)
    if (args.length < 2) throw new CliError(usageOf('stat'))
    if (args.length > 2) ({opts, args} = legacyWatch(tokens, spec, '\'stat path [watch]\' has been deprecated. Please use \'stat [-w] path\' instead.\n', s => ctx.err(s)))
    const st = await ctx.zk.exists(args[1], opts.has('w'))
    if (st === null) throw new KeeperError(-101, args[1])
    ctx.out(statText(st))
  },
}

export const create: CliCommand = {
  async run(ctx, tokens) {
    const {opts, args} = parseOptions({e: false, s: false, c: false, t: true}, tokens)
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
    const acl = args.length > 3 ? parseAcl(ctx, args[3]) : OPEN_ACL_UNSAFE
    try {
      const created = await ctx.zk.create(path, data, acl, mode, hasT ? Number(ttl) : -1)
      ctx.err(`Created ${created}\n`)
    } catch (e) {
      // CreateCommand prints an invalid ACL's KeeperException itself before the wrapper's line.
      if (e instanceof KeeperError && e.code === -114) ctx.err(`${e.message}\n`)
      throw e
    }
  },
}

export const set: CliCommand = {
  async run(ctx, tokens) {
    const {opts, args} = parseOptions({s: false, v: true}, tokens)
    if (args.length < 3) throw new CliError(usageOf('set'))
    const version = opts.has('v') ? parseJavaInt(opts.get('v')!) : -1
    const st = await ctx.zk.setData(args[1], Buffer.from(args[2], 'utf8'), version)
    if (opts.has('s')) ctx.out(statText(st))
  },
}

export const remove: CliCommand = {
  async run(ctx, tokens) {
    const {opts, args} = parseOptions({v: true}, tokens)
    if (args.length < 2) throw new CliError(usageOf('delete'))
    if (args.length > 2) ctx.err('\'delete path [version]\' has been deprecated. Please use \'delete [-v version] path\' instead.\n')
    const version = opts.has('v') ? parseJavaInt(opts.get('v')!) : -1
    await ctx.zk.delete(args[1], version)
  },
}

export const deleteall: CliCommand = {
  async run(ctx, tokens) {
    const {opts, args} = parseOptions({b: true}, tokens)
    if (args.length < 2) throw new CliError(usageOf('deleteall'))
    let batch = 0
    if (opts.has('b')) {
      const v = opts.get('b')!
      if (!/^[-+]?\d+$/.test(v) || Math.abs(Number(v)) > 2147483647) throw new CliError('-b argument must be an int value')
      batch = Number(v)
    }
    if (!await deleteRecursive(ctx.zk, args[1], batch)) ctx.err('Failed to delete some node(s) in the subtree!\n')
  },
}

export const sync: CliCommand = {
  async run(ctx, tokens) {
    const {args} = parseOptions({}, tokens)
    if (args.length < 2) throw new CliError(usageOf('sync'))
    const rc = await ctx.zk.sync(args[1])
    ctx.out(rc === 0 ? 'Sync is OK\n' : `Sync has failed. rc=${rc}\n`)
  },
}

export const getEphemerals: CliCommand = {
  async run(ctx, tokens) {
    const {args} = parseOptions({}, tokens)
    const list = args.length < 2 ? await ctx.zk.getEphemerals() : await ctx.zk.getEphemerals(args[1])
    ctx.out(`[${list.join(', ')}]\n`)
  },
}

export const getAllChildrenNumber: CliCommand = {
  async run(ctx, tokens) {
    const {args} = parseOptions({}, tokens)
    if (args.length < 2) throw new CliError(usageOf('getAllChildrenNumber'))
    ctx.out(`${await ctx.zk.getAllChildrenNumber(args[1])}\n`)
  },
}
