// Java .properties reader, following java.util.Properties#load: the contract for every
// config file kafkit reads (server.properties, zookeeper.properties, --command-config...).
// Values stay raw strings; typed settings are read from them by ./settings.ts.
import {readFileSync} from 'node:fs'

export class PropertiesError extends Error {}

/** Parses the text of a .properties file into an ordered map (later keys win). */
export function parseProperties(text: string, source = '<input>'): Map<string, string> {
  const out = new Map<string, string>()
  const lines = text.split(/\r\n|\r|\n/)
  let i = 0
  while (i < lines.length) {
    let line = stripLeading(lines[i++])
    if (line === '' || line[0] === '#' || line[0] === '!') continue
    // Join continuation lines: a line ending in an odd number of backslashes continues.
    while (endsWithOddBackslashes(line) && i <= lines.length) {
      line = line.slice(0, -1)
      if (i < lines.length) line += stripLeading(lines[i])
      i++
    }
    const lineNo = i
    let k = 0
    let rawKey = ''
    while (k < line.length) {
      const c = line[k]
      if (c === '\\') { rawKey += c + (line[k + 1] ?? ''); k += 2; continue }
      if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break
      rawKey += c
      k++
    }
    while (k < line.length && isWs(line[k])) k++
    if (k < line.length && (line[k] === '=' || line[k] === ':')) k++
    while (k < line.length && isWs(line[k])) k++
    const key = unescape(rawKey, source, lineNo)
    const value = unescape(line.slice(k), source, lineNo)
    out.set(key, value)
  }
  return out
}

/** Reads and parses a .properties file; a missing or unreadable file is a PropertiesError. */
export function loadProperties(file: string): Map<string, string> {
  let text: string
  try {
    text = readFileSync(file, 'latin1')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new PropertiesError(code === 'ENOENT' ? `Config file ${file} does not exist` : `Cannot read config file ${file}: ${(error as Error).message}`)
  }
  // Java reads .properties as ISO-8859-1; kafkit also accepts UTF-8 files, as Kafka's
  // tools do in practice, when the bytes are valid UTF-8.
  const buf = readFileSync(file)
  const utf8 = buf.toString('utf8')
  if (!utf8.includes('\uFFFD')) text = utf8
  return parseProperties(text, file)
}

function isWs(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\f'
}

function stripLeading(s: string): string {
  let k = 0
  while (k < s.length && isWs(s[k])) k++
  return s.slice(k)
}

function endsWithOddBackslashes(s: string): boolean {
  let n = 0
  for (let k = s.length - 1; k >= 0 && s[k] === '\\'; k--) n++
  return n % 2 === 1
}

function unescape(s: string, source: string, line: number): string {
  if (!s.includes('\\')) return s
  let out = ''
  for (let k = 0; k < s.length; k++) {
    const c = s[k]
    if (c !== '\\') { out += c; continue }
    const n = s[++k]
    if (n === undefined) break
    switch (n) {
      case 't': out += '\t'; break
      case 'n': out += '\n'; break
      case 'r': out += '\r'; break
      case 'f': out += '\f'; break
      case 'u': {
        const hex = s.slice(k + 1, k + 5)
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PropertiesError(`Malformed \\uxxxx encoding in ${source} at line ${line}`)
        out += String.fromCharCode(parseInt(hex, 16))
        k += 4
        break
      }
      default: out += n
    }
  }
  return out
}
