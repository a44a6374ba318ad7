// The command-line handling of Apache ZooKeeper's shell: its line tokenizer
// (ZooKeeperMain.MyCommandOptions) and the option parsing of Apache Commons CLI 1.4's
// DefaultParser that every shell command uses, with the same error messages. Pure.

/** ZooKeeperMain's ARGS_PATTERN: words, "double quoted" or 'single quoted' strings. */
const ARGS = /[ \t\n\x0B\f\r]*([^"'][^ \t\n\x0B\f\r]*|"[^"]*"|'[^']*')[ \t\n\x0B\f\r]*/g
const QUOTED = /^(['"])(.*)(\1)$/s

/** Splits a shell line as ZooKeeperMain.parseCommand does (surrounding quotes stripped). */
export function splitArgs(line: string): string[] {
  const out: string[] = []
  ARGS.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = ARGS.exec(line)) !== null) {
    let v = m[1]
    if (QUOTED.test(v)) v = v.slice(1, -1)
    out.push(v)
    if (m[0].length === 0) ARGS.lastIndex++
  }
  return out
}

/** A command-line error of the shell: its message goes to stderr, its code is the exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message)
  }
}

/** Options a command accepts: letter -> whether it takes a value. */
export type OptionSpec = Record<string, boolean>

export interface ParsedLine {
  /** The options given, with their first value ('' when they take none). */
  opts: Map<string, string>
  /** Everything else, the command name first (CommandLine.getArgs()). */
  args: string[]
}

function parseError(kind: string, message: string): CliError {
  return new CliError(`org.apache.commons.cli.${kind}: ${message}`)
}

/** A Commons CLI OptionGroup: at most one of its options; required = exactly one. */
export interface OptionGroup {
  keys: string[]
  required: boolean
  /** OptionGroup.toString(), as MissingOptionException prints it. */
  describe: string
}

/** Commons CLI 1.4 DefaultParser.parse(options, tokens), as the shell's commands call it. */
export function parseOptions(spec: OptionSpec, tokens: readonly string[], group?: OptionGroup): ParsedLine {
  let selected: string | null = null
  const opts = new Map<string, string>()
  const args: string[] = []
  let current: string | null = null
  let currentHasValue = false
  let skip = false

  const isShortOption = (t: string): boolean => {
    if (!t.startsWith('-') || t.length === 1) return false
    const eq = t.indexOf('=')
    const name = eq === -1 ? t.slice(1) : t.slice(1, eq)
    if (name in spec) return true
    return name.length > 0 && name[0] in spec
  }
  const isNegativeNumber = (t: string): boolean => /^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?[dDfF]?$/.test(t)
  const isArgument = (t: string): boolean => !isShortOption(t) || isNegativeNumber(t)
  const checkRequiredArgs = () => {
    if (current !== null && spec[current] && !currentHasValue) throw parseError('MissingArgumentException', `Missing argument for option: ${current}`)
  }
  const handleOption = (name: string) => {
    checkRequiredArgs()
    if (group && group.keys.includes(name)) {
      if (selected !== null && selected !== name) throw parseError('AlreadySelectedException', `The option '${name}' was specified but an option from this group has already been selected: '${selected}'`)
      selected = name
    }
    if (!opts.has(name)) opts.set(name, '')
    current = spec[name] ? name : null
    currentHasValue = false
  }
  const addValue = (v: string) => {
    if (current === null) return
    if (!currentHasValue && opts.get(current) === '') opts.set(current, v)
    currentHasValue = true
    current = null
  }
  const unknown = (t: string) => {
    if (t.startsWith('-') && t.length > 1) throw parseError('UnrecognizedOptionException', `Unrecognized option: ${t}`)
    args.push(t)
  }

  for (const t of tokens) {
    if (skip) { args.push(t); continue }
    if (t === '--') { skip = true; continue }
    if (current !== null && spec[current] && isArgument(t)) { addValue(t); continue }
    if (t.startsWith('--')) { unknown(t); continue }
    if (t.startsWith('-') && t !== '-') {
      const name = t.slice(1)
      const eq = name.indexOf('=')
      if (name.length === 1) {
        if (name in spec) handleOption(name)
        else unknown(t)
      } else if (eq === -1) {
        if (name in spec) handleOption(name)
        else {
          // concatenated options (-es), or an option with its value attached (-t5000)
          for (let i = 1; i < t.length; i++) {
            const ch = t[i]
            if (!(ch in spec)) { unknown(t); break }
            handleOption(ch)
            if (current !== null && t.length !== i + 1) { addValue(t.slice(i + 1)); break }
          }
        }
      } else {
        const o = name.slice(0, eq)
        if (o in spec && spec[o]) { handleOption(o); addValue(name.slice(eq + 1)) } else unknown(t)
      }
      continue
    }
    unknown(t)
  }
  checkRequiredArgs()
  if (group?.required && selected === null) throw parseError('MissingOptionException', `Missing required option: ${group.describe}`)
  return {opts, args}
}

/** Java's Integer.parseInt, or the crash it causes in the Java shell. */
export function parseJavaInt(s: string): number {
  if (/^[-+]?\d+$/.test(s)) {
    const v = Number(s)
    if (v >= -2147483648 && v <= 2147483647) return v
  }
  throw new JavaCrash(`java.lang.NumberFormatException: For input string: "${s}"`)
}

/** Java's Long.parseLong; null when it would throw NumberFormatException. */
export function parseJavaLong(s: string): bigint | null {
  if (!/^[-+]?\d+$/.test(s)) return null
  const v = BigInt(s)
  if (v < -9223372036854775808n || v > 9223372036854775807n) return null
  return v
}

/** Java's Integer.decode (redo's argument): decimal, 0x/# hex, 0 octal. */
export function decodeJavaInt(s: string): number {
  const m = /^([-+]?)(0[xX]|#|0(?=\d))?(.*)$/.exec(s)
  if (m && s.length > 0) {
    const radix = m[2] === undefined ? 10 : m[2] === '0' ? 8 : 16
    const digits = m[3]
    const re = radix === 10 ? /^\d+$/ : radix === 8 ? /^[0-7]+$/ : /^[0-9a-fA-F]+$/
    if (re.test(digits)) {
      const v = parseInt(digits, radix) * (m[1] === '-' ? -1 : 1)
      if (v >= -2147483648 && v <= 2147483647) return v
    }
    throw new JavaCrash(`java.lang.NumberFormatException: For input string: "${digits}"${radix === 10 ? '' : ` under radix ${radix}`}`)
  }
  throw new JavaCrash('java.lang.NumberFormatException: Zero length string')
}

/** An input the Java shell dies on (an uncaught exception): kafkit prints its first line and exits 1. */
export class JavaCrash extends Error {}
