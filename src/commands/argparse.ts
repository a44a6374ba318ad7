// Shared parts of the tools whose Java originals parse their arguments with argparse4j
// (kafka-verifiable-producer, kafka-verifiable-consumer): argparse4j's error lines
// ("<prog>: error: ...", exit 1), its number conversions, and help on no arguments.
import {Help} from '@oclif/core'
import {KafkaCommand, UsageError} from './base.js'

const INT_MIN = -2147483648
const INT_MAX = 2147483647

/** argparse4j's error line for a program. */
export function argError(prog: string, message: string): UsageError {
  return new UsageError(`${prog}: error: ${message}`)
}

/** argparse4j's Integer/Long conversion (Java's Integer.valueOf / Long.valueOf). */
export function parseJavaNumber(prog: string, flag: string, value: string, type: 'Integer' | 'Long' = 'Integer'): number {
  const [lo, hi] = type === 'Integer' ? [INT_MIN, INT_MAX] : [-(2 ** 63), 2 ** 63 - 1]
  const n = Number(value)
  if (!/^[+-]?\d+$/.test(value) || n < lo || n > hi || (type === 'Long' && !Number.isSafeInteger(n))) {
    throw argError(prog, `argument --${flag}: could not convert '${value}' to ${type} (For input string: "${value}")`)
  }
  return n
}

/** A Kafka tool with argparse4j's conventions. */
export abstract class ArgparseCommand extends KafkaCommand {
  /** argparse4j's program name (e.g. verifiable-producer). */
  static prog = ''

  /** As argparse4j's tools do: no arguments at all prints the help and exits 0. */
  protected async helpOnNoArguments(): Promise<boolean> {
    if (this.argv.length > 0) return false
    await new Help(this.config).showHelp([this.id!])
    return true
  }

  async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}): Promise<any> {
    const prog = (this.constructor as typeof ArgparseCommand).prog
    if (error.constructor?.name === 'NonExistentFlagsError' || /^Nonexistent flags?:/.test(error.message)) {
      const flags = ((error as any).flags as string[] | undefined) ?? error.message.replace(/^Nonexistent flags?:\s*/, '').split('\n')[0].split(', ')
      return super.catch(argError(prog, `unrecognized arguments: ${flags.map(f => `'${f.replace(/=.*$/, '')}'`).join(' ')}`))
    }
    if (/^Unexpected arguments?:/.test(error.message)) {
      const args = error.message.replace(/^Unexpected arguments?:\s*/, '').split('\n')[0].split(', ')
      return super.catch(argError(prog, `unrecognized arguments: ${args.map(a => `'${a}'`).join(' ')}`))
    }
    if (/expects a value/.test(error.message)) {
      const m = /--([\w.-]+)/.exec(error.message)
      return super.catch(argError(prog, `argument --${m ? m[1] : ''}: expected one argument`))
    }
    return super.catch(error)
  }
}
