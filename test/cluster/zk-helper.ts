// Starts Apache ZooKeeper 3.8 (Debian's package) standalone on a free port with a temp
// dataDir, for tests that need the real peer. Reused by other engineers' tests.
//   const zk = await startApacheZooKeeper(); ... zk.connect ('127.0.0.1:<port>') ... await zk.stop()
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, writeFileSync, mkdirSync} from 'node:fs'
import {connect as netConnect} from 'node:net'
import {join} from 'node:path'
import {freePort, removeDir, tempDir, waitFor} from '../helpers/util.js'

/** Where Debian puts ZooKeeper's jar (its manifest's Class-Path names every dependency). */
const ZK_JARS = ['/usr/share/java/zookeeper.jar', '/usr/share/zookeeper/zookeeper.jar']
const JAVA = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'

export interface ApacheZooKeeper {
  /** host:port to connect to. */
  connect: string
  port: number
  dataDir: string
  /** Output of the server process (for failure messages). */
  output(): string
  /** Kills the server (SIGKILL: a crash) and starts it again on the same port and dataDir. */
  restart(): Promise<void>
  stop(): Promise<void>
}

export function apacheZooKeeperJar(): string | undefined {
  return ZK_JARS.find(j => existsSync(j))
}

/** Sends a four-letter word and returns the reply ('' on any error). */
export function fourLetterWord(port: number, word: string, host = '127.0.0.1'): Promise<string> {
  return new Promise(res => {
    let out = ''
    const s = netConnect(port, host, () => s.write(word))
    s.setTimeout(2000, () => s.destroy())
    s.on('data', d => { out += d.toString() })
    s.on('close', () => res(out))
    s.on('error', () => res(''))
  })
}

export async function startApacheZooKeeper(opts: {tickTime?: number; maxSessionTimeout?: number} = {}): Promise<ApacheZooKeeper> {
  const jar = apacheZooKeeperJar()
  if (!jar) throw new Error(`Apache ZooKeeper 3.8 is not installed (looked for ${ZK_JARS.join(', ')}); run /work/shared/tools/install-peers or apt-get install zookeeper`)
  const port = await freePort()
  const dir = tempDir('kafkit-zk-')
  const dataDir = join(dir, 'data')
  mkdirSync(dataDir)
  const cfg = join(dir, 'zoo.cfg')
  writeFileSync(cfg, [
    `tickTime=${opts.tickTime ?? 500}`,
    `dataDir=${dataDir.replace(/\\/g, '/')}`,
    `clientPort=${port}`,
    'clientPortAddress=127.0.0.1',
    'maxClientCnxns=0',
    'admin.enableServer=false',
    '4lw.commands.whitelist=*',
    `maxSessionTimeout=${opts.maxSessionTimeout ?? 60000}`,
    '',
  ].join('\n'))
  let output = ''
  let child: ChildProcess
  let exited: Promise<void>
  let spawnError: Error | undefined
  const spawnServer = () => {
    child = spawn(JAVA, ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Dzookeeper.admin.enableServer=false', '-cp', jar, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg], {stdio: ['ignore', 'pipe', 'pipe']})
    child.stdout?.on('data', d => { output += d.toString() })
    child.stderr?.on('data', d => { output += d.toString() })
    const c = child
    exited = new Promise<void>(r => c.once('exit', () => r()))
    c.once('error', e => { spawnError = e })
  }
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal)
      const t = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(t)
    }
  }
  const ready = () => waitFor(async () => {
    if (spawnError) throw new Error(`cannot run ${JAVA}: ${spawnError.message}`)
    if (child.exitCode !== null) throw new Error(`ZooKeeper exited with code ${child.exitCode}: ${output.slice(-2000)}`)
    return (await fourLetterWord(port, 'srvr')).includes('Mode:')
  }, 30000, `Apache ZooKeeper on port ${port}`, 100)
  const stop = async () => {
    await kill('SIGTERM')
    removeDir(dir)
  }
  spawnServer()
  try {
    await ready()
  } catch (error) {
    await stop()
    throw error
  }
  const restart = async () => {
    await kill('SIGKILL')
    spawnServer()
    await ready()
  }
  return {connect: `127.0.0.1:${port}`, port, dataDir, output: () => output, restart, stop}
}
