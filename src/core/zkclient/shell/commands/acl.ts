// zkCli's commands on ACLs and identities: getAcl, setAcl, addauth, whoami.
import {KeeperError} from '../../client.js'
import {parseOptions, parseJavaInt, CliError} from '../../options.js'
import {csv, permString, statText, usageOf} from '../format.js'
import {parseAcl, type CliCommand} from '../context.js'
import {visitSubTreeDFS} from '../tree.js'

export const getAcl: CliCommand = {
  async run(ctx, tokens) {
    const {opts, args} = parseOptions({s: false}, tokens)
    if (args.length < 2) throw new CliError(usageOf('getAcl'))
    const {acl, stat} = await ctx.zk.getACL(args[1])
    for (const a of acl) ctx.out(`${csv(a.scheme)},${csv(a.id)}\n: ${permString(a.perms)}\n`)
    if (opts.has('s')) ctx.out(statText(stat))
  },
}

export const setAcl: CliCommand = {
  async run(ctx, tokens) {
    const {opts, args} = parseOptions({s: false, v: true, R: false}, tokens)
    if (args.length < 3) throw new CliError(usageOf('setAcl'))
    const path = args[1]
    const acl = parseAcl(ctx, args[2])
    const version = opts.has('v') ? parseJavaInt(opts.get('v')!) : -1
    if (opts.has('R')) {
      await visitSubTreeDFS(ctx.zk, path, false, () => {}, async p => {
        try {
          await ctx.zk.setACL(p, acl, version)
        } catch (e) {
          if (e instanceof KeeperError) ctx.out(e.message)
          else throw e
        }
      })
    } else {
      const stat = await ctx.zk.setACL(path, acl, version)
      if (opts.has('s')) ctx.out(statText(stat))
    }
  },
}

export const addauth: CliCommand = {
  async run(ctx, tokens) {
    const {args} = parseOptions({}, tokens)
    if (args.length < 2) throw new CliError(usageOf('addauth'))
    ctx.zk.addAuthInfo(args[1], args.length > 2 ? Buffer.from(args[2], 'utf8') : null)
  },
}

export const whoami: CliCommand = {
  async run(ctx) {
    // ZooKeeper.whoAmI() answers null when the request fails: the header alone, no error.
    const who = await ctx.zk.whoAmI().catch(e => { if (e instanceof KeeperError) return []; throw e })
    ctx.out('Auth scheme: User\n' + who.map(w => `${w.scheme}: ${w.user}\n`).join(''))
  },
}
