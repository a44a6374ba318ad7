// zookeeper-shell: Kafka 3.9's zookeeper-shell.sh, which is Apache ZooKeeper 3.8's
// ZooKeeperMain (zkCli) behind Kafka's wrapper. `zookeeper-shell host:port[/chroot] [cmd args]`
// runs one command; without one it reads commands from stdin, one per line. Every command,
// message, stream (stdout/stderr) and exit code follows the Java shell's; the client is
// kafkit's own (src/core/zkclient), so containers, TTL nodes, getEphemerals, whoami,
// addWatch and removewatches work as they do with Apache's client. This file is the shell
// (arguments, the session, the line loop, quit/redo/history/printwatches/connect); each zkCli
// command is a unit of its own in src/core/zkclient/shell/commands.
import {Command} from '@oclif/core'
import {createInterface} from 'node:readline'
import {ZkClient, eventString, type WatchedEvent} from '../core/zkclient/client.js'
import {splitArgs, decodeJavaInt, CliError, JavaCrash} from '../core/zkclient/options.js'
import {COMMANDS, USAGE} from '../core/zkclient/shell/format.js'
import {runCliCommand} from '../core/zkclient/shell/commands/index.js'
import type {ShellContext} from '../core/zkclient/shell/context.js'
import {zkClientSecurity, type ZkClientSecurity} from '../core/zkclient/security.js'
import {loadZkTlsConfigFile} from '../core/zkclient/tls-config-file.js'

/** The Java shell's ExitCode.EXECUTION_FINISHED. */
const OK = 0

export default class ZooKeeperShell extends Command {
  static summary = 'Apache ZooKeeper\'s command-line shell, as Kafka 3.9 ships it (zookeeper-shell.sh).'
  static description = 'Connects to a ZooKeeper server (host:port[,host:port...][/chroot], IPv6 as [::1]:2181) and runs one command, or reads commands from standard input when none is given. Commands, output and exit codes are those of ZooKeeper 3.8\'s zkCli: ls, get, stat, create (-s -e -c -t ttl), set, delete, deleteall, getAcl, setAcl, addauth, sync, getEphemerals, getAllChildrenNumber, addWatch, removewatches, whoami, config, version, setquota, listquota, delquota, reconfig, printwatches, history, redo, close, connect, quit.'
  static strict = false
  static usage = '<%= command.id %> host:port[,host:port...][/chroot] [-timeout ms] [-r] [command [args...]]'
  static examples = [
    '<%= config.bin %> localhost:2181 ls /brokers/ids',
    '<%= config.bin %> localhost:2181 get /controller',
    'echo "ls /" | <%= config.bin %> localhost:2181',
  ]

  private zk: ZkClient | null = null
  private host = ''
  private timeout = 30000
  private readOnly = false
  private history = new Map<number, string>()
  private commandCount = 0
  private printWatches = true
  private exitCode = OK
  /** TLS (-zk-tls-config-file) and SASL (the JAAS Client section named in KAFKA_OPTS). */
  private security: ZkClientSecurity = {}
  /** The last parsed command (ZooKeeperMain's MyCommandOptions keeps it). */
  private lastWords: string[] | null = null

  private out(s: string): void {
    process.stdout.write(s)
  }

  private err(s: string): void {
    process.stderr.write(s)
  }

  async run(): Promise<void> {
    process.stdout.on('error', () => {})
    const argv = [...this.argv]
    if (argv.length < 1) {
      // Kafka's zookeeper-shell.sh says this on stdout before Java starts.
      this.out('USAGE: zookeeper-shell zookeeper_host:port[/path] [-zk-tls-config-file file] [args...]\n')
      process.exitCode = 1
      return
    }
    const tls = argv.indexOf('-zk-tls-config-file')
    let tlsProps: Map<string, string> | null = null
    try {
      if (tls >= 0) {
        if (tls === argv.length - 1) throw new Error('java.lang.IllegalArgumentException: Error: no filename provided with option -zk-tls-config-file')
        tlsProps = loadZkTlsConfigFile(argv[tls + 1])
        argv.splice(tls, 2)
      }
      this.security = zkClientSecurity(k => tlsProps?.get(k), tls >= 0 ? this.argv[tls + 1] : '<no -zk-tls-config-file>')
    } catch (e) {
      this.err(`Exception in thread "main" ${(e as Error).message}\n`)
      process.exitCode = 1
      return
    }
    // ZooKeeperMain.parseOptions over "-server" + the arguments.
    let server = 'localhost:2181'
    let words: string[] | null = null
    const it = ['-server', ...argv]
    for (let i = 0; i < it.length; i++) {
      const opt = it[i]
      if (opt === '-server' || opt === '-timeout') {
        if (i + 1 >= it.length) {
          this.err(`Error: no argument found for option ${opt}\n`)
          break
        }
        const v = it[++i]
        if (opt === '-server') server = v
        else this.timeout = Number.parseInt(v, 10)
      } else if (opt === '-r') {
        this.readOnly = true
      }
      if (!opt.startsWith('-')) {
        words = it.slice(i)
        break
      }
    }
    if (this.readOnly && tlsProps !== null) {
      this.err('Exception in thread "main" java.lang.IllegalArgumentException: read-only mode (-r) is not supported with an explicit TLS config (-zk-tls-config-file)\n')
      process.exitCode = 1
      return
    }
    if (!Number.isInteger(this.timeout) || this.timeout <= 0) {
      this.err(`Exception in thread "main" java.lang.NumberFormatException: For input string: "${it[it.indexOf('-timeout') + 1]}"\n`)
      process.exitCode = 1
      return
    }
    this.out(`Connecting to ${server}\n`)
    try {
      await this.connectToZK(server)
    } catch (e) {
      this.err(`Exception in thread "main" ${(e as Error).message}\n`)
      process.exitCode = 1
      return
    }
    try {
      if (words === null) {
        this.out('Welcome to ZooKeeper!\nJLine support is disabled\n')
        const rl = createInterface({input: process.stdin, crlfDelay: Infinity, terminal: false})
        for await (const line of rl) {
          if (await this.executeLine(line)) break
        }
        rl.close()
      } else {
        await this.processCmd(words)
      }
    } catch (e) {
      if (e instanceof JavaCrash) {
        this.err(`Exception in thread "main" ${e.message}\n`)
      } else {
        // A reply kafkit cannot decode, or a bug: one line, never a stack trace.
        this.err(`Error: ${(e as Error).message}\n`)
      }
      this.exitCode = 1
    }
    await this.zk?.close()
    process.exitCode = this.exitCode
    process.stdin.destroy()
    setTimeout(() => process.exit(this.exitCode), 3000).unref()
  }

  private async connectToZK(newHost: string): Promise<void> {
    if (this.zk && this.zk.isAlive()) await this.closeSession()
    this.host = newHost
    const zk = new ZkClient(newHost, {sessionTimeout: this.timeout, readOnly: this.readOnly, onEvent: e => this.onEvent(e), tls: this.security.tls, sasl: this.security.sasl})
    this.zk = zk
    zk.start()
  }

  /** ZooKeeper.close() as the shell's close, connect and quit call it: then the Closed event. */
  private async closeSession(): Promise<void> {
    await this.zk!.close(true)
    this.onEvent({type: -1, state: 7, path: null})
  }

  private onEvent(e: WatchedEvent): void {
    if (this.printWatches) this.out(`\nWATCHER::\n\n${eventString(e)}\n`)
  }

  /** ZooKeeperMain.executeLine; true when the shell should end (quit). */
  private async executeLine(line: string): Promise<boolean> {
    if (line === '') return false
    // A line with no word (a lone quote) leaves the previous command in place: it runs again.
    const parsed = splitArgs(line)
    if (parsed.length > 0) this.lastWords = parsed
    const words = this.lastWords
    this.history.set(this.commandCount, line)
    if (words === null) throw new JavaCrash('java.lang.NullPointerException: Cannot invoke "java.util.List.toArray(Object[])" because "this.cmdArgs" is null')
    const quit = await this.processCmd(words)
    this.commandCount++
    return quit
  }

  /** ZooKeeperMain.processCmd: runs one command, prints a CliException's message on stderr. */
  private async processCmd(words: string[]): Promise<boolean> {
    try {
      const quit = await this.processZKCmd(words)
      // quit ends the Java shell inside the command: the exit code stays the previous command's.
      if (!quit) this.exitCode = OK
      return quit
    } catch (e) {
      if (e instanceof CliError) {
        this.exitCode = e.exitCode
        this.err(`${e.message}\n`)
        return false
      }
      throw e
    }
  }

  private async processZKCmd(args: string[]): Promise<boolean> {
    const cmd = args[0]
    if (args.length < 1) {
      this.err(USAGE)
      throw new CliError('No command entered')
    }
    if (!Object.hasOwn(COMMANDS, cmd)) {
      this.err(USAGE)
      throw new CliError(`Command not found: Command not found ${cmd}`, 127)
    }
    if (cmd === 'quit') {
      if (this.zk?.isAlive()) await this.closeSession()
      return true
    } else if (cmd === 'redo' && args.length >= 2) {
      const i = decodeJavaInt(args[1])
      if (this.commandCount <= i || i < 0) throw new CliError('Command index out of range')
      const line = this.history.get(i) ?? ''
      const parsed = splitArgs(line)
      if (parsed.length > 0) this.lastWords = parsed
      const again = this.lastWords!
      if (again[0] === 'redo') throw new CliError('No redoing redos')
      this.history.set(this.commandCount, line)
      return this.processCmd(again)
    } else if (cmd === 'history') {
      for (let i = this.commandCount - 10; i <= this.commandCount; ++i) {
        if (i < 0) continue
        this.out(`${i} - ${this.history.get(i) ?? 'null'}\n`)
      }
    } else if (cmd === 'printwatches') {
      if (args.length === 1) this.out(`printwatches is ${this.printWatches ? 'on' : 'off'}\n`)
      else this.printWatches = args[1] === 'on'
    } else if (cmd === 'connect') {
      try {
        await this.connectToZK(args.length >= 2 ? args[1] : this.host)
      } catch (e) {
        throw new JavaCrash((e as Error).message)
      }
    }
    if (!this.zk || !this.zk.isAlive()) {
      this.out('Not connected\n')
      return false
    }
    if (['quit', 'redo', 'history', 'printwatches', 'connect'].includes(cmd)) return false
    await runCliCommand(this.context(), cmd, args)
    return false
  }

  /** What the zkCli commands see of the shell. */
  private context(): ShellContext {
    return {
      zk: this.zk!,
      out: s => this.out(s),
      err: s => this.err(s),
      closeSession: () => this.closeSession(),
      version: this.config.version,
    }
  }
}
