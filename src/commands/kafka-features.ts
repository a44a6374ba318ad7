// kafka-features: describe the feature flags of a cluster (and upgrade, downgrade, disable
// them), with Apache Kafka 3.9's arguments (argparse4j style), output lines and exit codes.
// A ZooKeeper-mode cluster has no feature flags: describe prints nothing.
import {Args, Flags} from '@oclif/core'
import {KafkaCommand, loadClientProperties, ToolError} from './base.js'
import {AdminClient} from '../core/client/admin-client.js'
import {ClientConfig} from '../core/client/config.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'
import {describeFeatures, updateFeatures, UpgradeType} from '../core/client/admin/cluster.js'
import {argparseParseError, argparseUsage} from '../core/util/argparse.js'

const PROG = 'kafka-features'
const COMMANDS = ['describe', 'upgrade', 'downgrade', 'disable']

/** Kafka 3.9's metadata.version levels (MetadataVersion from 3.3-IV0). */
const METADATA_VERSIONS = ['3.3-IV0', '3.3-IV1', '3.3-IV2', '3.3-IV3', '3.4-IV0', '3.5-IV0', '3.5-IV1', '3.5-IV2', '3.6-IV0', '3.6-IV1', '3.6-IV2', '3.7-IV0', '3.7-IV1', '3.7-IV2', '3.7-IV3', '3.7-IV4', '3.8-IV0', '3.9-IV0', '4.0-IV0', '4.0-IV1']
const FIRST_LEVEL = 4
const LATEST_PRODUCTION = '3.9-IV0'

function metadataLevel(version: string): number | undefined {
  let i = METADATA_VERSIONS.indexOf(version)
  // "3.7" is the newest IV of 3.7, as MetadataVersion.fromVersionString reads it.
  if (i < 0 && /^\d+\.\d+$/.test(version)) i = METADATA_VERSIONS.map(v => v.split('-')[0]).lastIndexOf(version)
  return i < 0 ? undefined : FIRST_LEVEL + i
}

function levelToString(feature: string, level: number): string {
  if (feature !== 'metadata.version') return String(level)
  return METADATA_VERSIONS[level - FIRST_LEVEL] ?? `UNKNOWN ${level}`
}

export default class KafkaFeatures extends KafkaCommand {
  static hidden = false
  static summary = 'This tool manages feature flags in Kafka.'
  static description = 'describe: the feature flags the cluster supports and their finalized levels ("Feature: F<TAB>SupportedMinVersion: ...<TAB>FinalizedVersionLevel: ...<TAB>Epoch: ..."; nothing on a ZooKeeper-mode cluster). upgrade / downgrade (--metadata, --feature f=level, --unsafe, --dry-run) and disable (--feature f) change them. Arguments, output and exit codes are Apache Kafka 3.9\'s kafka-features.'
  static examples = ['kafka-features --bootstrap-server localhost:9092 describe']

  static args = {
    command: Args.string({description: 'describe | upgrade | downgrade | disable', required: false}),
  }

  static flags = {
    help: Flags.help({char: 'h', description: 'show this help message and exit'}),
    'bootstrap-server': Flags.string({description: 'A comma-separated list of host:port pairs to use for establishing the connection to the Kafka cluster.', helpValue: 'BOOTSTRAP_SERVER'}),
    'bootstrap-controller': Flags.string({description: 'A comma-separated list of host:port pairs to use for establishing the connection to the KRaft quorum.', helpValue: 'BOOTSTRAP_CONTROLLER'}),
    'command-config': Flags.string({description: 'Property file containing configs to be passed to Admin Client.', helpValue: 'COMMAND_CONFIG'}),
    metadata: Flags.string({description: 'upgrade/downgrade: the level to which we should upgrade or downgrade the metadata. For example, 3.3-IV3.', helpValue: 'METADATA'}),
    feature: Flags.string({description: 'upgrade/downgrade: a feature update in feature=level format (repeatable), e.g. `metadata.version=5`; disable: a feature flag to disable.', helpValue: 'FEATURE', multiple: true, multipleNonGreedy: true}),
    unsafe: Flags.boolean({description: 'downgrade/disable: perform this even if it may irreversibly destroy metadata.'}),
    'dry-run': Flags.boolean({description: 'upgrade/downgrade/disable: validate, but do not perform it.'}),
  }

  async catch(error: Error & {exitCode?: number; code?: string}): Promise<any> {
    return super.catch(argparseParseError(PROG, error) ?? error)
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(KafkaFeatures)
    const command = args.command
    const server = flags['bootstrap-server']
    const controller = flags['bootstrap-controller']
    if (server !== undefined && controller !== undefined) throw argparseUsage(PROG, 'argument --bootstrap-controller: not allowed with argument --bootstrap-server')
    if (command === undefined) throw argparseUsage(PROG, 'too few arguments')
    if (!COMMANDS.includes(command)) throw argparseUsage(PROG, `invalid choice: '${command}' (choose from ${COMMANDS.map(c => `'${c}'`).join(', ')})`)
    const allowed: Record<string, string[]> = {describe: [], upgrade: ['metadata', 'feature', 'dry-run'], downgrade: ['metadata', 'feature', 'unsafe', 'dry-run'], disable: ['feature', 'unsafe', 'dry-run']}
    for (const f of ['metadata', 'feature', 'unsafe', 'dry-run'] as const) {
      const v = flags[f]
      if (v !== undefined && v !== false && !allowed[command].includes(f)) throw argparseUsage(PROG, `unrecognized arguments: '--${f}'`)
    }
    if (server === undefined && controller === undefined) throw argparseUsage(PROG, 'one of the arguments --bootstrap-server --bootstrap-controller is required')
    const props = loadClientProperties(flags['command-config'])
    const admin = new AdminClient((server ?? controller)!, new ClientConfig(props))
    try {
      if (command === 'describe') await this.describe(admin)
      else await this.update(admin, command, flags)
    } catch (error) {
      // Kafka's tool prints the exception's message: the cause's class and message.
      if (error instanceof KafkaClientError) throw new ToolError(error.toString())
      throw error
    } finally {
      admin.close()
    }
  }

  private async describe(admin: AdminClient): Promise<void> {
    const fm = await describeFeatures(admin)
    for (const feature of [...fm.supported.keys()].sort()) {
      const [min, max] = fm.supported.get(feature)!
      const finalized = fm.finalized.get(feature) ?? 0
      await this.writeOut(`Feature: ${feature}\tSupportedMinVersion: ${levelToString(feature, min)}\tSupportedMaxVersion: ${levelToString(feature, max)}\tFinalizedVersionLevel: ${levelToString(feature, finalized)}\tEpoch: ${fm.epoch >= 0 ? fm.epoch : '-'}\n`)
    }
  }

  private async update(admin: AdminClient, op: string, flags: {metadata?: string; feature?: string[]; unsafe: boolean; 'dry-run': boolean}): Promise<void> {
    const type = op === 'upgrade' ? UpgradeType.UPGRADE : flags.unsafe ? UpgradeType.UNSAFE_DOWNGRADE : UpgradeType.SAFE_DOWNGRADE
    const updates = new Map<string, {level: number; type: number}>()
    if (op === 'disable') {
      for (const f of flags.feature ?? []) {
        if (updates.has(f)) throw new ToolError(`Feature ${f} was specified more than once.`)
        updates.set(f, {level: 0, type})
      }
    } else {
      if (flags.metadata !== undefined) {
        const level = metadataLevel(flags.metadata)
        if (level === undefined) {
          const supported = METADATA_VERSIONS.slice(0, METADATA_VERSIONS.indexOf(LATEST_PRODUCTION) + 1).join(', ')
          throw new ToolError(`Unsupported metadata.version ${flags.metadata}. Supported metadata.version are ${supported}`)
        }
        updates.set('metadata.version', {level, type})
      }
      for (const f of flags.feature ?? []) {
        const eq = f.indexOf('=')
        if (eq < 0) throw new ToolError(`Can't parse feature=level string ${f}: equals sign not found.`)
        const name = f.slice(0, eq).trim()
        const levelString = f.slice(eq + 1).trim()
        const level = Number(levelString)
        if (!/^[+-]?\d+$/.test(levelString) || level < -32768 || level > 32767) throw new ToolError(`Can't parse feature=level string ${f}: unable to parse ${levelString} as a short.`)
        if (updates.has(name)) throw new ToolError(`Feature ${name} was specified more than once.`)
        updates.set(name, {level, type})
      }
    }
    if (updates.size === 0) throw new ToolError(`You must specify at least one feature to ${op}`)
    const dryRun = flags['dry-run']
    const results = await updateFeatures(admin, updates, dryRun)
    let failures = 0
    for (const feature of [...results.keys()].sort()) {
      const error = results.get(feature)
      const level = updates.get(feature)!.level
      if (error !== null && error !== undefined) {
        failures++
        await this.writeOut(`${dryRun ? 'Can not ' : 'Could not '}${op === 'disable' ? `disable ${feature}` : `${op} ${feature} to ${level}`}. ${error}\n`)
      } else {
        await this.writeOut(`${feature}${dryRun ? ' can be ' : ' was '}${op === 'disable' ? 'disabled.' : `${op}d to ${level}.`}\n`)
      }
    }
    if (failures > 0) throw new ToolError(`${failures} out of ${updates.size} operation(s) failed.`)
  }
}
