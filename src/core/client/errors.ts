// Errors the command-line tools print: one line on stderr (or stdout where Kafka's tool
// prints there), a non-zero exit, never a stack trace.

export {UsageError} from '../util/argparse.js'

/**
 * An operation failed. `stdout` is true where Kafka's tool prints the message on stdout
 * (kafka-topics prints "Error while executing topic command : ..." there).
 */
export class ToolError extends Error {
  constructor(message: string, readonly stdout = false, readonly exitCode = 1) {
    super(message)
  }
}

/** An error returned by the broker for one request (Kafka's error code, name and message). */
export class BrokerError extends Error {
  constructor(readonly code: number, readonly errorName: string, message: string) {
    super(message)
  }
}

/** "Cannot parse argument 'x' of option y" unless value is an integer in range. */
export function parseIntOption(value: string, option: string, min = -2147483648, max = 2147483647): number {
  const t = value.trim()
  if (!/^[+-]?\d+$/.test(t)) throw new ToolError(`Cannot parse argument '${value}' of option ${option}`)
  const n = Number(t)
  if (n < min || n > max) throw new ToolError(`Cannot parse argument '${value}' of option ${option}`)
  return n
}
