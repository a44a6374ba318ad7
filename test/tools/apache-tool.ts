// Any of Apache Kafka 3.9's scripts (~/.cache/apache-kafka-3.9/bin/<name>, as
// ../shared/tools/apache-kafka writes them) run through java directly (no bash: Windows too),
// and kafkit's, both as background processes whose stdout and stderr are kept apart.
import {spawn, type ChildProcess} from 'node:child_process'
import {join} from 'node:path'
import {apacheScript, spawnApacheMain} from './apache-kafka.js'
import {binDir, repoRoot, testRunDir, type RunResult} from '../helpers/util.js'

/** The main class behind one of Apache's scripts (read from the installed script). */
export function apacheMainClass(name: string): string {
  const script = apacheScript(name)
  if (!script) throw new Error(`Apache Kafka 3.9's ${name} is not installed`)
  return script.main
}

/** A tool running in the background; stdout and stderr kept apart. */
export class ToolProc {
  stdout = ''
  stderr = ''
  readonly exited: Promise<number | null>
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', d => { this.stdout += d.toString() })
    child.stderr?.on('data', d => { this.stderr += d.toString() })
    child.stdin?.on('error', () => {})
    child.stdin?.end()
    this.exited = new Promise(r => child.on('close', code => r(code ?? (child.signalCode ? 128 + ({SIGINT: 2, SIGTERM: 15, SIGKILL: 9} as Record<string, number>)[child.signalCode] : null))))
  }

  /** stdout's complete lines. */
  lines(): string[] {
    const l = this.stdout.split('\n')
    l.pop()
    return l
  }

  /** Waits until at least n stdout lines contain text. */
  async waitForLines(text: string, n = 1, timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.lines().filter(l => l.includes(text)).length < n) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${n} stdout lines with ${text} (stdout: ${this.stdout.slice(-1500)} stderr: ${this.stderr.slice(-1500)})`)
      await new Promise(r => setTimeout(r, 25))
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs)
    const code = await this.exited
    clearTimeout(timer)
    return code
  }

  async result(timeoutMs = 90000): Promise<RunResult> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs)
    const code = await this.exited
    clearTimeout(timer)
    return {code, stdout: this.stdout, stderr: this.stderr}
  }
}

export function startApacheScript(name: string, args: string[]): ToolProc {
  const script = apacheScript(name)
  if (!script) throw new Error(`Apache Kafka 3.9's ${name} is not installed`)
  return new ToolProc(spawnApacheMain(script.main, [...script.fixed, ...args]))
}

export function startKafkitScript(name: string, args: string[], env: NodeJS.ProcessEnv = {}): ToolProc {
  return new ToolProc(spawn(process.execPath, [join(binDir, `${name}.js`), ...args], {cwd: repoRoot, env: {...process.env, KAFKIT_RUN_DIR: testRunDir, ...env}, stdio: ['pipe', 'pipe', 'pipe']}))
}

/** Runs a script to its end, Apache's or kafkit's. */
export function runScript(which: 'apache' | 'kafkit', name: string, args: string[], timeoutMs = 90000): Promise<RunResult> {
  return (which === 'apache' ? startApacheScript(name, args) : startKafkitScript(name, args)).result(timeoutMs)
}

/** argparse4j wraps and justifies its lines: the error line with single spaces. */
export function argparseErrorLine(stderr: string): string {
  // (a wrapped "--bootstrap-server --\nbroker-list" is one word again)
  const text = stderr.replace(/--\n(?=\w)/g, '--').replace(/\s+/g, ' ')
  const i = text.search(/[\w-]+: error:/)
  return i < 0 ? '' : text.slice(i).trim()
}
