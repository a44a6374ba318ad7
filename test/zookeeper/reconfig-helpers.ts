// Shared by the reconfig tests: zookeeper-shell runs (kafkit's, or Kafka 3.9's Java one), port
// masking for transcripts, server specs for reconfig -add, a joining server's files.
import {spawn} from 'node:child_process'
import {existsSync, writeFileSync, mkdirSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import type {Ensemble, Member} from './ensemble-helpers.js'
import {runCommand, freePort} from '../helpers/util.js'

const KAFKA_HOME = process.env.KAFKA_HOME ?? join(homedir(), '.cache', 'apache-kafka-3.9')
const JAVA_SHELL = join(KAFKA_HOME, 'bin', 'zookeeper-shell')

export type Shell = 'kafkit' | 'java'

/** One zookeeper-shell run: stdout+stderr without the connection banner and watcher lines. */
export async function shell(which: Shell, server: string, input: string): Promise<string> {
  let out: string
  if (which === 'kafkit') {
    const r = await runCommand('zookeeper-shell', [server], {input, timeoutMs: 60000})
    out = r.stdout + r.stderr
  } else {
    if (!existsSync(JAVA_SHELL)) throw new Error(`Kafka 3.9's zookeeper-shell is not installed (${JAVA_SHELL})`)
    out = await new Promise<string>((resolve, reject) => {
      const c = spawn(JAVA_SHELL, [server], {stdio: ['pipe', 'pipe', 'pipe']})
      let o = ''
      c.stdout.on('data', d => { o += d })
      c.stderr.on('data', d => { o += d })
      const t = setTimeout(() => { c.kill('SIGKILL'); reject(new Error(`Java zookeeper-shell timed out: ${o}`)) }, 60000)
      c.on('close', () => { clearTimeout(t); resolve(o) })
      c.stdin.end(input)
    })
  }
  return out.split('\n')
    .filter(l => !/^(Connecting to |WATCHER::|WatchedEvent state:|\[\d{4}-|\s+at |EndOfStreamException: |Welcome to ZooKeeper!$|JLine support is disabled$|$)/.test(l))
    .join('\n')
}

/** Ports and session-specific values replaced by names (server N's ports as qN/eN/cN). */
export function mask(e: Ensemble, extra: Member[], text: string): string {
  let out = text
  for (const m of [...e.members, ...extra]) {
    out = out.replaceAll(`:${m.quorumPort}:`, `:q${m.id}:`).replaceAll(`:${m.electionPort}:`, `:e${m.id}:`)
      .replaceAll(`:${m.electionPort}\n`, `:e${m.id}\n`).replaceAll(`:${m.clientPort}`, `:c${m.id}`)
  }
  return out.replace(/^(ctime|mtime) = .*$/gm, '$1 = ?')
}

/** Zxid-bearing counters (config versions, mZxid, .dynamic.<version> names) with their low 32 bits masked; epoch-only values stay. */
export function maskCounters(text: string): string {
  return text.replace(/(version=|mZxid = 0x|\.dynamic\.)([0-9a-f]*)([0-9a-f]{8})\b/g, (all, a: string, b: string, c: string) => c === '00000000' ? all : `${a}${b}xxxxxxxx`)
}

export function serverSpec(m: Member, withClient = true, role: 'participant' | 'observer' = 'participant'): string {
  return `server.${m.id}=127.0.0.1:${m.quorumPort}:${m.electionPort}:${role}${withClient ? `;127.0.0.1:${m.clientPort}` : ''}`
}

/** A 4th server's files: the ensemble's server lines and its own (as Apache's docs add a server). */
export async function joiner(e: Ensemble, kind: 'kafkit' | 'apache'): Promise<Member> {
  const id = e.members.length + 1
  const dir = join(e.root, `zk${id}`)
  mkdirSync(join(dir, 'data'), {recursive: true})
  writeFileSync(join(dir, 'data', 'myid'), `${id}\n`)
  const m: Member = {id, kind, observer: false, clientPort: await freePort(), quorumPort: await freePort(), electionPort: await freePort(), dir, child: null, output: ''}
  return m
}

export const OPTS = {extra: ['reconfigEnabled=true', 'skipACL=yes']}

/**
 * Runs a scenario that writes its transcript into t, and returns t. When it fails, the
 * transcript so far and the end of every server's output are printed before the error; the
 * ensemble is destroyed either way.
 */
export async function recorded(e: Ensemble, t: string[], body: () => Promise<void>): Promise<string[]> {
  try {
    await body()
    return t
  } catch (err) {
    console.log(t.join('\n'))
    console.log(e.tail(3000))
    throw err
  } finally {
    await e.destroy()
  }
}
