// Shared base of kafkit's Kafka tools (kafka-topics, kafka-console-producer, ...): Kafka's
// flag names, error handling (one clear line, exit 1, never a stack trace), stdout kept for
// data only (EPIPE from `| head` ends the command quietly), and an ora spinner on stderr
// only when stderr is a terminal.
import {Command, Flags} from '@oclif/core'
import {writeSync} from 'node:fs'
import {loadProperties, PropertiesError} from '../core/config/properties.js'
import {BrokerError, ToolError, UsageError} from '../core/client/errors.js'

export {UsageError, ToolError}

/** Flags every Kafka tool shares. */
export const bootstrapServerFlag = (description = 'REQUIRED: The server(s) to connect to, host:port[,host:port...].') =>
  Flags.string({description, helpValue: '<server to connect to>'})
export const commandConfigFlag = () =>
  Flags.string({description: 'Property file containing configs to be passed to the Admin Client (bootstrap.servers, client.id, request.timeout.ms, default.api.timeout.ms, ...).', helpValue: '<command config property file>'})
/** A repeatable `--flag k=v`. */
export const keyValueFlag = (description: string, helpValue = '<prop=value>') => Flags.string({description, helpValue, multiple: true, multipleNonGreedy: true})

/** Writes a whole line to a file descriptor synchronously (safe right before exit). */
export function writeLineSync(fd: 1 | 2, line: string): void {
  try {
    writeSync(fd, line.endsWith('\n') ? line : line + '\n')
  } catch {
    // stdout/stderr closed: nothing more can be said.
  }
}

let stdoutClosed = false
let epipeHandlerInstalled = false
function installEpipeHandler(): void {
  if (epipeHandlerInstalled) return
  epipeHandlerInstalled = true
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    stdoutClosed = true
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') process.exit(0)
    writeLineSync(2, `Error: cannot write to standard output: ${error.message}`)
    process.exit(1)
  })
}

/** Parses `k=v` items (repeatable --property / --config): key, value; a missing `=` is an error. */
export function parseKeyValues(items: string[] | undefined, what: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const item of items ?? []) {
    const i = item.indexOf('=')
    if (i <= 0) throw new UsageError(`Invalid ${what} '${item}': expected key=value`)
    out.set(item.slice(0, i).trim(), item.slice(i + 1))
  }
  return out
}

/** Loads a client .properties file (--command-config, --producer.config, --consumer.config). */
export function loadClientProperties(file: string | undefined): Map<string, string> {
  if (!file) return new Map()
  try {
    return loadProperties(file)
  } catch (error) {
    if (error instanceof PropertiesError) throw new ToolError(error.message)
    throw error
  }
}

export function intProperty(props: Map<string, string>, key: string, def: number): number {
  const v = props.get(key)
  if (v === undefined) return def
  const n = Number(v.trim())
  if (!Number.isInteger(n)) throw new ToolError(`Invalid value ${v} for configuration ${key}: Not a number of type INT`)
  return n
}

export abstract class KafkaCommand extends Command {
  static strict = true
  // oclif finds this class in src/commands too: hide it (each tool sets hidden = false).
  static hidden = true
  /** Put before the lines made from oclif's parse errors (kafka-get-offsets: "Error occurred: "). */
  static parseErrorPrefix = ''

  private spinner: {stop(): void; text: string} | undefined

  async run(): Promise<unknown> {
    throw new UsageError('base is the shared base of the Kafka tools, not a command')
  }

  async init(): Promise<void> {
    await super.init()
    installEpipeHandler()
  }

  /** Writes data to stdout; resolves when the stream can take more (backpressure). */
  protected writeOut(text: string | Uint8Array): Promise<void> | undefined {
    if (stdoutClosed) return undefined
    if (process.stdout.write(text)) return undefined
    return new Promise(res => process.stdout.once('drain', res))
  }

  /** Shows an ora spinner on stderr while fn runs, only when stderr is a terminal. */
  protected async withSpinner<T>(text: string, fn: () => Promise<T>): Promise<T> {
    // (A pty without a size, as under `script`, makes ora loop: no spinner there either.)
    if (!process.stderr.isTTY || !(process.stderr.columns > 0)) return fn()
    const {default: ora} = await import('ora')
    const s = ora({text, stream: process.stderr, discardStdin: false}).start()
    this.spinner = s
    try {
      return await fn()
    } finally {
      s.stop()
      this.spinner = undefined
    }
  }

  /** One line for any failure; exits with a non-zero code. */
  async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}): Promise<any> {
    this.spinner?.stop()
    // oclif's own exits (this.exit, --help, --version) pass through.
    if (error.constructor?.name === 'ExitError' || error.code === 'EEXIT') throw error
    let line: string
    let fd: 1 | 2 = 2
    let code = 1
    if (error instanceof ToolError) {
      line = error.message
      if (error.stdout) fd = 1
      code = error.exitCode
    } else if (error instanceof UsageError) {
      line = error.message
    } else if (error instanceof BrokerError) {
      line = `Error: ${error.message}`
    } else if (error.constructor?.name === 'NonExistentFlagsError' || /^Nonexistent flags?:/.test(error.message)) {
      const flags = ((error as any).flags as string[] | undefined) ?? error.message.replace(/^Nonexistent flags?:\s*/, '').split('\n')[0].split(', ')
      line = `${(this.constructor as typeof KafkaCommand).parseErrorPrefix}${flags.map(f => f.replace(/^-+/, '').replace(/=.*$/, '')).join(', ')} is not a recognized option`
    } else if (/^Unexpected arguments?:/.test(error.message)) {
      line = `${(this.constructor as typeof KafkaCommand).parseErrorPrefix}Found non-option arguments: ${error.message.replace(/^Unexpected arguments?:\s*/, '').split('\n')[0]}`
    } else if (/expects a value/.test(error.message)) {
      const m = /--([\w.-]+)/.exec(error.message)
      line = `${(this.constructor as typeof KafkaCommand).parseErrorPrefix}Option ${m ? m[1] : ''} requires an argument`
    } else {
      line = error.message.split('\n')[0] || String(error)
      if (!/^Error/i.test(line)) line = `Error: ${line}`
      if (process.env.KAFKIT_DEBUG) writeLineSync(2, String(error.stack))
    }
    writeLineSync(fd, line)
    await new Promise(res => process.stdout.write('', () => res(undefined)))
    process.exit(code)
  }
}
