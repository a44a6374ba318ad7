// The error lines of Kafka tools built on argparse4j (kafka-cluster, kafka-features, ...):
// "<prog>: error: <message>", the last line argparse prints after the usage (unwrapped).

/** A bad command line: Kafka's tools print the message, then usage; kafkit prints the message. */
export class UsageError extends Error {}

/** A bad command line, as argparse4j's last line says it. */
export function argparseUsage(prog: string, message: string): UsageError {
  return new UsageError(`${prog}: error: ${message}`)
}

/**
 * Turns oclif's parse errors into argparse4j's lines: unknown flags and extra arguments are
 * "unrecognized arguments: '...'", a flag without its value "argument --x/-y: expected one
 * argument". names maps a flag to the way argparse names it (`--id/-i`). undefined when the
 * error is not a parse error.
 */
export function argparseParseError(prog: string, error: Error & {flags?: string[]}, names: Record<string, string> = {}): UsageError | undefined {
  if (error.constructor?.name === 'NonExistentFlagsError' || /^Nonexistent flags?:/.test(error.message)) {
    const flags = error.flags ?? error.message.replace(/^Nonexistent flags?:\s*/, '').split('\n')[0].split(', ')
    return argparseUsage(prog, `unrecognized arguments: '${flags.map(f => f.replace(/=.*$/, '')).join(' ')}'`)
  }
  if (/^Unexpected arguments?:/.test(error.message)) {
    return argparseUsage(prog, `unrecognized arguments: '${error.message.replace(/^Unexpected arguments?:\s*/, '').split('\n')[0].split(', ').join(' ')}'`)
  }
  if (/expects a value/.test(error.message)) {
    const m = /--([\w.-]+)/.exec(error.message)
    const name = m ? (names[m[1]] ?? `--${m[1]}`) : ''
    return argparseUsage(prog, `argument ${name}: expected one argument`)
  }
  return undefined
}
