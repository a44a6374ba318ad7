// zkCli's watch commands: addWatch, removewatches.
import {parseOptions, CliError} from '../../options.js'
import {usageOf} from '../format.js'
import type {CliCommand} from '../context.js'

export const addWatch: CliCommand = {
  async run(ctx, tokens) {
    const {opts, args} = parseOptions({m: true}, tokens)
    if (args.length !== 2) throw new CliError(usageOf('addWatch'))
    let mode = 1
    if (opts.has('m')) {
      const m = opts.get('m')!.toUpperCase()
      if (m === 'PERSISTENT') mode = 0
      else if (m !== 'PERSISTENT_RECURSIVE') throw new CliError(usageOf('addWatch'))
    }
    await ctx.zk.addWatch(args[1], mode)
  },
}

export const removewatches: CliCommand = {
  async run(ctx, tokens) {
    const {opts, args} = parseOptions({c: false, d: false, a: false, l: false}, tokens)
    if (args.length < 2) throw new CliError(usageOf('removewatches'))
    const type = opts.has('c') ? 1 : opts.has('d') ? 2 : 3
    await ctx.zk.removeAllWatches(args[1], type, opts.has('l'))
  },
}
