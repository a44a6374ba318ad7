// JAAS configuration as Kafka reads it: the value of sasl.jaas.config
// (`<LoginModule> <flag> key="value" key2=value2;`, several modules allowed) and JAAS files
// (`Section { <LoginModule> <flag> options; };`) with Java's quoting and comments.

export interface JaasModule {
  loginModule: string
  flag: string
  options: Record<string, string>
}

const FLAGS = new Set(['required', 'requisite', 'sufficient', 'optional'])

type Token = {kind: 'word' | 'quoted' | 'punct'; text: string}

function tokenize(text: string): Token[] {
  const out: Token[] = []
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text[i]
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') { i++; continue }
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++
      continue
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      if (end < 0) throw new Error('unterminated comment')
      i = end + 2
      continue
    }
    if (c === '"' || c === "'") {
      let s = ''
      i++
      for (;;) {
        if (i >= n) throw new Error('unterminated quoted value')
        const d = text[i]
        if (d === c) { i++; break }
        if (d === '\\' && i + 1 < n) {
          const e = text[i + 1]
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e
          i += 2
          continue
        }
        s += d
        i++
      }
      out.push({kind: 'quoted', text: s})
      continue
    }
    if (c === '{' || c === '}' || c === ';' || c === '=') {
      out.push({kind: 'punct', text: c})
      i++
      continue
    }
    let s = ''
    while (i < n && !/[\s{};="']/.test(text[i])) s += text[i++]
    out.push({kind: 'word', text: s})
  }
  return out
}

function parseModules(tokens: Token[], pos: {i: number}, until: string | null): JaasModule[] {
  const modules: JaasModule[] = []
  for (;;) {
    const t = tokens[pos.i]
    if (t === undefined) {
      if (until !== null) throw new Error(`expected '${until}'`)
      return modules
    }
    if (until !== null && t.kind === 'punct' && t.text === until) return modules
    if (t.kind !== 'word') throw new Error(`expected a login module class, found '${t.text}'`)
    const loginModule = t.text
    pos.i++
    const f = tokens[pos.i]
    if (f === undefined || f.kind !== 'word' || !FLAGS.has(f.text.toLowerCase())) throw new Error(`login module ${loginModule} control flag must be one of required, requisite, sufficient, optional`)
    pos.i++
    const options: Record<string, string> = {}
    for (;;) {
      const k = tokens[pos.i]
      if (k === undefined) throw new Error(`expected ';' after the options of ${loginModule}`)
      if (k.kind === 'punct' && k.text === ';') { pos.i++; break }
      if (k.kind !== 'word') throw new Error(`expected an option name in the options of ${loginModule}, found '${k.text}'`)
      const eq = tokens[pos.i + 1]
      const v = tokens[pos.i + 2]
      if (eq === undefined || eq.kind !== 'punct' || eq.text !== '=' || v === undefined || v.kind === 'punct') throw new Error(`option ${k.text} of ${loginModule} must be name=value`)
      options[k.text] = v.text
      pos.i += 3
    }
    modules.push({loginModule, flag: f.text.toLowerCase(), options})
  }
}

/**
 * Parses sasl.jaas.config text (file = false: a list of modules) or a JAAS file (file = true:
 * sections by name). Throws an Error with a one-line reason (callers add the key, never the value).
 */
export function parseJaas(text: string, file: true): Record<string, JaasModule[]>
export function parseJaas(text: string, file?: false): JaasModule[]
export function parseJaas(text: string, file = false): JaasModule[] | Record<string, JaasModule[]> {
  const tokens = tokenize(text)
  const pos = {i: 0}
  if (!file) {
    const modules = parseModules(tokens, pos, null)
    if (modules.length === 0) throw new Error('no login module given')
    return modules
  }
  const sections: Record<string, JaasModule[]> = {}
  while (pos.i < tokens.length) {
    const name = tokens[pos.i]
    if (name.kind !== 'word') throw new Error(`expected a section name, found '${name.text}'`)
    const open = tokens[pos.i + 1]
    if (open === undefined || open.kind !== 'punct' || open.text !== '{') throw new Error(`expected '{' after ${name.text}`)
    pos.i += 2
    sections[name.text] = parseModules(tokens, pos, '}')
    pos.i++ // '}'
    const semi = tokens[pos.i]
    if (semi === undefined || semi.kind !== 'punct' || semi.text !== ';') throw new Error(`expected ';' after the section ${name.text}`)
    pos.i++
  }
  return sections
}
