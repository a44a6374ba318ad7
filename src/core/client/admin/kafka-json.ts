// Reading the JSON files Kafka's admin tools take (--offset-json-file, ...) with the messages
// of Kafka's own decoder (org.apache.kafka.server.util.json): "Expected `Integer` value,
// received \"x\"", "No such field exists: `topic`", "Expected JSON object, received [1]".
// Not modelled: Jackson's distinction between 1 and 1.0 (an integral double passes as a number).

export class KafkaJsonError extends Error {}

/** Jackson's JsonNode.toString() for a parsed value. */
function show(v: unknown): string {
  return JSON.stringify(v) ?? 'null'
}

/** Json.parseFull: the value, or undefined when the text is not JSON. */
export function parseFull(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

export function asObject(v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new KafkaJsonError(`Expected JSON object, received ${show(v)}`)
  return v as Record<string, unknown>
}

export function asArray(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new KafkaJsonError(`Expected JSON array, received ${show(v)}`)
  return v
}

/** JsonObject.apply(name): the field, or "No such field exists". */
export function field(o: Record<string, unknown>, name: string): unknown {
  if (!Object.prototype.hasOwnProperty.call(o, name)) throw new KafkaJsonError(`No such field exists: \`${name}\``)
  return o[name]
}

export function toInt(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v > 2147483647 || v < -2147483648) throw new KafkaJsonError(`Expected \`Integer\` value, received ${show(v)}`)
  return v
}

export function toLong(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new KafkaJsonError(`Expected \`Long\` value, received ${show(v)}`)
  return v
}

export function toStr(v: unknown): string {
  if (typeof v !== 'string') throw new KafkaJsonError(`Expected \`String\` value, received ${show(v)}`)
  return v
}
