// zkCli's session and ensemble commands: config, reconfig, version, close.
import {parseOptions, CliError} from '../../options.js'
import {clientConfigStr, statText, usageOf} from '../format.js'
import type {CliCommand} from '../context.js'
import {readFileSync} from 'node:fs'
import {parseProperties} from '../../../config/properties.js'
import {parseVerifier} from '../../../zookeeper/quorum/verifier.js'

const ZK_CLI_VERSION = '3.8.4'

export const config: CliCommand = {
  async run(ctx, tokens) {
    const {opts, args} = parseOptions({s: false, w: false, c: false}, tokens)
    if (args.length < 1) throw new CliError(usageOf('config'))
    const {data, stat} = await ctx.zk.getConfig(opts.has('w'))
    const text = data === null ? 'null' : data.toString('utf8')
    ctx.out(`${opts.has('c') ? clientConfigStr(text) : text}\n`)
    if (opts.has('s')) ctx.out(statText(stat))
  },
}

export const reconfig: CliCommand = {
  async run(ctx, tokens) {
    const {opts} = parseOptions({s: false, v: true, file: true, members: true, add: true, remove: true}, tokens)
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
    const lower = (k: string) => opts.has(k) ? opts.get(k)!.toLowerCase() : null
    let members = lower('members')
    if (opts.has('file')) {
      // ReconfigCommand: the file's dynamic lines, checked and sent as the configuration's text.
      const file = opts.get('file')!
      try {
        members = parseVerifier(parseProperties(readFileSync(file, 'latin1'), file).entries(), file).toString()
      } catch (e) {
        throw new CliError(`Error processing ${file}${(e as Error).message}`)
      }
    }
    const {data, stat} = await ctx.zk.reconfig(lower('add'), lower('remove'), members, version)
    ctx.out(`Committed new configuration:\n${data === null ? '' : data.toString('utf8')}\n`)
    if (opts.has('s')) ctx.out(statText(stat))
  },
}

export const version: CliCommand = {
  async run(ctx) {
    ctx.out(`ZooKeeper CLI version: ${ZK_CLI_VERSION} (kafkit ${ctx.version})\n`)
  },
}

export const close: CliCommand = {
  async run(ctx) {
    await ctx.closeSession()
  },
}
