// Shared pieces of kafka-producer-perf-test and kafka-consumer-perf-test: Java-style number
// formatting and a small SimpleDateFormat. (Their clients are the client core's Producer and
// Consumer.)
import {ToolError} from './errors.js'

/** Java's String.format("%.Nf", x): NaN and Infinity spelled as Java spells them. */
export function fixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Infinity) return 'Infinity'
  if (x === -Infinity) return '-Infinity'
  return x.toFixed(digits)
}

const pad = (n: number, w: number) => String(n).padStart(w, '0')
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']

/**
 * A formatter for java.text.SimpleDateFormat patterns (local time): y M d H h k K m s S E a
 * Z X and quoted text. Throws a one-line error for a pattern letter it does not know.
 */
export function simpleDateFormat(pattern: string): (ms: number) => string {
  type Part = string | {letter: string; count: number}
  const parts: Part[] = []
  for (let i = 0; i < pattern.length;) {
    const ch = pattern[i]
    if (ch === '\'') {
      const end = pattern.indexOf('\'', i + 1)
      if (end === i + 1) { parts.push('\''); i += 2; continue }
      if (end < 0) throw new ToolError(`Error: Unterminated quote in date format '${pattern}'`)
      parts.push(pattern.slice(i + 1, end))
      i = end + 1
      continue
    }
    if (/[a-zA-Z]/.test(ch)) {
      let j = i
      while (pattern[j] === ch) j++
      if (!/[yMdHhkKmsSEaZXuDFwWG]/.test(ch)) throw new ToolError(`Error: Illegal pattern character '${ch}'`)
      parts.push({letter: ch, count: j - i})
      i = j
      continue
    }
    parts.push(ch)
    i++
  }
  return (ms: number) => {
    const d = new Date(ms)
    let out = ''
    for (const p of parts) {
      if (typeof p === 'string') { out += p; continue }
      const n = p.count
      switch (p.letter) {
        case 'y': case 'u': { const y = d.getFullYear(); out += n === 2 ? pad(y % 100, 2) : pad(y, n); break }
        case 'M': out += n >= 4 ? MONTHS[d.getMonth()] : n === 3 ? MONTHS[d.getMonth()].slice(0, 3) : pad(d.getMonth() + 1, n); break
        case 'd': out += pad(d.getDate(), n); break
        case 'H': out += pad(d.getHours(), n); break
        case 'k': out += pad(d.getHours() === 0 ? 24 : d.getHours(), n); break
        case 'K': out += pad(d.getHours() % 12, n); break
        case 'h': out += pad(d.getHours() % 12 === 0 ? 12 : d.getHours() % 12, n); break
        case 'm': out += pad(d.getMinutes(), n); break
        case 's': out += pad(d.getSeconds(), n); break
        case 'S': out += pad(d.getMilliseconds(), n); break
        case 'E': out += n >= 4 ? DAYS[d.getDay()] : DAYS[d.getDay()].slice(0, 3); break
        case 'a': out += d.getHours() < 12 ? 'AM' : 'PM'; break
        case 'G': out += 'AD'; break
        case 'D': { const start = new Date(d.getFullYear(), 0, 1); out += pad(Math.floor((d.getTime() - start.getTime()) / 86400000) + 1, n); break }
        case 'F': out += pad(Math.floor((d.getDate() - 1) / 7) + 1, n); break
        case 'w': case 'W': out += pad(1, n); break
        case 'Z': case 'X': {
          const off = -d.getTimezoneOffset()
          const sign = off >= 0 ? '+' : '-'
          const a = Math.abs(off)
          out += p.letter === 'X' && off === 0 ? 'Z' : `${sign}${pad(Math.floor(a / 60), 2)}${p.letter === 'X' && n === 1 ? '' : (n === 3 ? ':' : '') + pad(a % 60, 2)}`
          break
        }
      }
    }
    return out
  }
}
