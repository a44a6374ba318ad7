// The JSON files of kafka-reassign-partitions and kafka-leader-election, read and written as
// Kafka 3.9's tools do (its Json / DecodeJson helpers over Jackson): the same field names and
// version checks, and the same messages for a file that is not JSON or has a field of the
// wrong type ("No such field exists: `replicas`", "Expected `Integer` value, received \"a\"").
import type {TopicPartition} from './reassign.js'

/** A bad JSON file: the message is what Kafka's tool prints after "Error: ". */
export class JsonFileError extends Error {}

/**
 * JSON.parse with Jackson's first-line messages for the common mistakes: an empty input,
 * a bare word ("Unrecognized token 'xyz': ..."), input that ends inside an array or object.
 */
export function parseJsonLikeJackson(text: string): unknown {
  if (text.trim() === '') throw new JsonFileError("The input string shouldn't be empty")
  try {
    return JSON.parse(text)
  } catch {
    throw new JsonFileError(jacksonMessage(text))
  }
}

function jacksonMessage(text: string): string {
  const stack: string[] = []
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text[i]
    if (c === '"') {
      i++
      while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
      if (i >= n) return 'Unexpected end-of-input: was expecting closing quote for a string value'
      i++
      continue
    }
    if (c === '{' || c === '[') stack.push(c)
    else if (c === '}' || c === ']') {
      const open = stack.pop()
      if (open === undefined || (open === '{') !== (c === '}')) return `Unexpected close marker '${c}': expected '${open === '{' ? '}' : ']'}'`
    } else if (/[A-Za-z]/.test(c)) {
      const word = /^[A-Za-z0-9_]+/.exec(text.slice(i))![0]
      if (!['true', 'false', 'null'].includes(word)) {
        if (stack[stack.length - 1] === '{' && /[{,]\s*$/.test(text.slice(0, i))) return `Unexpected character ('${c}' (code ${c.charCodeAt(0)})): was expecting double-quote to start field name`
        return `Unrecognized token '${word}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`
      }
      i += word.length
      continue
    }
    i++
  }
  if (stack.length) return `Unexpected end-of-input within/between ${stack[stack.length - 1] === '{' ? 'Object' : 'Array'} entries`
  return 'The input string is not a valid JSON'
}

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? 'null')

export function asObject(v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new JsonFileError(`Expected JSON object, received ${show(v)}`)
  return v as Record<string, unknown>
}

export function asArray(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new JsonFileError(`Expected JSON array, received ${show(v)}`)
  return v
}

export function field(o: Record<string, unknown>, name: string): unknown {
  if (!(name in o)) throw new JsonFileError(`No such field exists: \`${name}\``)
  return o[name]
}

export function asInt(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v > 2147483647 || v < -2147483648) throw new JsonFileError(`Expected \`Integer\` value, received ${show(v)}`)
  return v
}

export function asString(v: unknown): string {
  if (typeof v !== 'string') throw new JsonFileError(`Expected \`String\` value, received ${show(v)}`)
  return v
}

export interface ReassignmentEntry extends TopicPartition {replicas: number[]; logDirs: string[]}

/** --reassignment-json-file: {"version":1,"partitions":[{"topic","partition","replicas"[,"log_dirs"]}]}. */
export function parseReassignmentJson(text: string): ReassignmentEntry[] {
  const root = asObject(parseJsonLikeJackson(text))
  const version = 'version' in root ? asInt(root.version) : 1
  if (version !== 1) throw new JsonFileError(`Not supported version field value ${version}`)
  if (!('partitions' in root)) return []
  return asArray(root.partitions).map(item => {
    const o = asObject(item)
    const topic = asString(field(o, 'topic'))
    const partition = asInt(field(o, 'partition'))
    const replicas = asArray(field(o, 'replicas')).map(asInt)
    const logDirs = 'log_dirs' in o ? asArray(o.log_dirs).map(asString) : replicas.map(() => 'any')
    if (logDirs.length !== replicas.length) throw new JsonFileError(`Size of replicas list [${replicas.join(', ')}] is different from size of log dirs list [${logDirs.join(', ')}] for partition ${topic}-${partition}`)
    return {topic, partition, replicas, logDirs}
  })
}

/** --topics-to-move-json-file: {"topics":[{"topic":"foo"}],"version":1}. Not JSON at all: Kafka's own message. */
export function parseTopicsJson(text: string): string[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new JsonFileError('The input string is not a valid JSON')
  }
  const root = asObject(parsed)
  const version = 'version' in root ? asInt(root.version) : 1
  if (version !== 1) throw new JsonFileError(`Not supported version field value ${version}`)
  if (!('topics' in root)) return []
  return asArray(root.topics).map(t => asString(field(asObject(t), 'topic')))
}

/** Kafka's reassignment JSON (sorted by topic, partition; log_dirs "any"), compact as Jackson writes it. */
export function formatReassignmentJson(parts: (TopicPartition & {replicas: number[]})[]): string {
  const sorted = [...parts].sort((a, b) => (a.topic !== b.topic ? (a.topic < b.topic ? -1 : 1) : a.partition - b.partition))
  return JSON.stringify({version: 1, partitions: sorted.map(p => ({topic: p.topic, partition: p.partition, replicas: p.replicas, log_dirs: p.replicas.map(() => 'any')}))})
}
