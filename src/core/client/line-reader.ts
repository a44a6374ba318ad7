// The console producer's line format (Kafka's LineMessageReader): each input line becomes
// one record; with parse.headers the text before headers.delimiter holds headers
// (k:v,k2:v2), with parse.key the text before key.separator is the key; null.marker turns
// a field into null. Pure: no I/O.
import {ToolError} from './errors.js'

export interface LineFormat {
  parseKey: boolean
  keySeparator: string
  parseHeaders: boolean
  headersDelimiter: string
  headersSeparator: string
  headersKeySeparator: string
  nullMarker: string | undefined
  ignoreError: boolean
}

export interface ParsedRecord {
  key: string | null
  value: string | null
  headers: Record<string, string | null> | undefined
}

function bool(v: string | undefined): boolean {
  return v !== undefined && v.trim().toLowerCase() === 'true'
}

/** Reads the line format from --property values (Java's names and defaults). */
export function lineFormat(props: Map<string, string>): LineFormat {
  const f: LineFormat = {
    parseKey: bool(props.get('parse.key')),
    keySeparator: props.get('key.separator') ?? '\t',
    parseHeaders: bool(props.get('parse.headers')),
    headersDelimiter: props.get('headers.delimiter') ?? '\t',
    headersSeparator: props.get('headers.separator') ?? ',',
    headersKeySeparator: props.get('headers.key.separator') ?? ':',
    nullMarker: props.get('null.marker'),
    ignoreError: bool(props.get('ignore.error')),
  }
  if (f.keySeparator === '') throw new ToolError('Property key.separator must not be empty')
  if (f.nullMarker !== undefined) {
    if (f.nullMarker === '') throw new ToolError('null.marker must not be empty')
    if (f.parseKey && f.nullMarker === f.keySeparator) throw new ToolError(`null.marker and key.separator cannot be the same: '${f.nullMarker}'`)
    if (f.parseHeaders && f.nullMarker === f.headersDelimiter) throw new ToolError(`null.marker and headers.delimiter cannot be the same: '${f.nullMarker}'`)
  }
  if (f.parseHeaders && f.headersSeparator === f.headersKeySeparator) throw new ToolError(`headers.separator and headers.key.separator cannot be the same: '${f.headersSeparator}'`)
  return f
}

/** Parses one line (without its line terminator); lineNumber counts from 1. */
export function parseLine(f: LineFormat, line: string, lineNumber: number): ParsedRecord {
  if (!f.parseKey && !f.parseHeaders) return {key: null, value: f.nullMarker !== undefined && line === f.nullMarker ? null : line, headers: undefined}
  let pos = 0
  let headers: Record<string, string | null> | undefined
  if (f.parseHeaders) {
    const i = line.indexOf(f.headersDelimiter)
    if (i < 0) {
      if (!f.ignoreError) throw new ToolError(`No headers delimiter found on line number ${lineNumber}: '${line}'`)
    } else {
      headers = {}
      const text = line.slice(0, i)
      pos = i + f.headersDelimiter.length
      if (text !== '' && !(f.nullMarker !== undefined && text === f.nullMarker)) {
        for (const pair of text.split(f.headersSeparator)) {
          const k = pair.indexOf(f.headersKeySeparator)
          if (k < 0) {
            if (!f.ignoreError) throw new ToolError(`No header key separator found in pair '${pair}' on line number ${lineNumber}`)
            headers[pair] = null
            continue
          }
          const name = pair.slice(0, k)
          if (f.nullMarker !== undefined && name === f.nullMarker) throw new ToolError(`Header keys should not be equal to the null marker '${f.nullMarker}' as they can't be null`)
          const value = pair.slice(k + f.headersKeySeparator.length)
          headers[name] = f.nullMarker !== undefined && value === f.nullMarker ? null : value
        }
      }
    }
  }
  let key: string | null = null
  if (f.parseKey) {
    const i = line.indexOf(f.keySeparator, pos)
    if (i < 0) {
      if (!f.ignoreError) throw new ToolError(`No key separator found on line number ${lineNumber}: '${line}'`)
    } else {
      key = line.slice(pos, i)
      if (f.nullMarker !== undefined && key === f.nullMarker) key = null
      pos = i + f.keySeparator.length
    }
  }
  let value: string | null = line.slice(pos)
  if (f.nullMarker !== undefined && value === f.nullMarker) value = null
  return {key, value, headers}
}
