// Exclusive locks on directories (Kafka's log-dir `.lock`), the same on Windows and Linux
// without OS file locks: the lock file is created exclusively (open 'wx': of two processes,
// exactly one succeeds) and names its holder: pid, a loopback port and a token. The holding
// process answers its token on that port while it lives, so a lock left by a dead process is
// recognised as stale (nobody answers, or someone else does: a recycled pid never looks
// busy) and taken over, and a live holder is never displaced.
import * as fs from 'node:fs'
import {createServer, connect, type Server} from 'node:net'
import {randomBytes} from 'node:crypto'

const token = randomBytes(12).toString('hex')
let responder: Promise<{server: Server; port: number}> | null = null
const held = new Map<string, number>() // lock file -> open fd

/** This process's answer on loopback: its token, to whoever asks. Started on first use, never keeps the process alive. */
function startResponder(): Promise<{server: Server; port: number}> {
  responder ??= new Promise((resolve, reject) => {
    const server = createServer(socket => {
      socket.on('error', () => socket.destroy())
      socket.end(`${token}\n`)
    })
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.unref()
      resolve({server, port: (server.address() as {port: number}).port})
    })
  })
  return responder
}

/**
 * Whether the holder named in a lock file still answers with its token. Nobody listening, or
 * someone else answering, means gone; a connection that stays silent (a holder whose event loop
 * is busy) counts as alive: never displace a live holder.
 */
function holderAlive(port: number, expected: string): Promise<boolean> {
  return new Promise(resolve => {
    let got = ''
    let connected = false
    const s = connect({host: '127.0.0.1', port})
    const done = (v: boolean) => { clearTimeout(timer); s.destroy(); resolve(v) }
    const timer = setTimeout(() => done(connected && got === ''), 5000)
    s.on('connect', () => { connected = true })
    s.on('data', d => {
      got += d.toString()
      if (got.includes('\n')) done(got.trim() === expected)
    })
    s.on('error', () => done(false))
    s.on('close', () => done(got.trim() === expected))
  })
}

export class DirLockedError extends Error {}

/**
 * Takes the lock file exclusively, or throws DirLockedError when a live process holds it. An
 * empty or unreadable lock file (Apache Kafka leaves an empty `.lock`) and one whose holder no
 * longer answers are stale and replaced.
 */
export async function acquireLock(file: string): Promise<void> {
  if (held.has(file)) throw new DirLockedError(`${file} is held by this process`)
  const {port} = await startResponder()
  const mine = `${process.pid} ${port} ${token}\n`
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number
    try {
      fd = fs.openSync(file, 'wx')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      let text = ''
      try { text = fs.readFileSync(file, 'utf8') } catch { continue } // gone meanwhile: try again
      const m = /^(\d+) (\d+) ([0-9a-f]+)\s*$/.exec(text)
      if (m && await holderAlive(Number(m[2]), m[3])) throw new DirLockedError(`${file} is held by process ${m[1]}`)
      // Stale: move it aside (only one contender's rename succeeds), then create ours.
      let now = ''
      try { now = fs.readFileSync(file, 'utf8') } catch { continue }
      if (now !== text) continue
      const aside = `${file}.stale-${randomBytes(4).toString('hex')}`
      try {
        fs.renameSync(file, aside)
        fs.rmSync(aside, {force: true})
      } catch { /* another contender moved it first */ }
      continue
    }
    try {
      fs.writeSync(fd, mine)
      fs.fsyncSync(fd)
    } catch (error) {
      fs.closeSync(fd)
      fs.rmSync(file, {force: true})
      throw error
    }
    held.set(file, fd) // kept open while held
    return
  }
  throw new DirLockedError(`${file} could not be taken: other processes keep replacing it`)
}

/** Gives the lock up: closes the file, then removes it. */
export function releaseLock(file: string): void {
  const fd = held.get(file)
  if (fd === undefined) return
  held.delete(file)
  try { fs.closeSync(fd) } catch { /* already closed */ }
  try { fs.rmSync(file, {force: true}) } catch { /* a later start removes a stale one */ }
}
