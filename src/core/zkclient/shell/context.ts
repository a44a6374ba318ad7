// What a zkCli command works with: the session and the shell's two streams. The shell
// (src/commands/zookeeper-shell.ts) owns the session's life; commands only use it.
import type {ZkClient} from '../client.js'
import type {Acl} from '../codec.js'
import {javaSplit} from './format.js'

export interface ShellContext {
  zk: ZkClient
  out(s: string): void
  err(s: string): void
  /** ZooKeeper.close() as the shell's close, connect and quit do it, with the Closed event. */
  closeSession(): Promise<void>
  /** kafkit's version, for `version`. */
  version: string
}

/** One of zkCli's CliCommands: parses its own options from the tokens (tokens[0] is its name). */
export interface CliCommand {
  run(ctx: ShellContext, tokens: string[]): Promise<void>
}

/** AclParser.parse: bad entries are reported on stderr and skipped. */
export function parseAcl(ctx: ShellContext, s: string): Acl[] {
  const out: Acl[] = []
  for (const a of javaSplit(s, ',')) {
    const first = a.indexOf(':')
    const last = a.lastIndexOf(':')
    if (first === -1 || first === last) {
      ctx.err(`${a} does not have the form scheme:id:perm\n`)
      continue
    }
    let perms = 0
    for (const ch of a.slice(last + 1)) {
      const bit = ({r: 1, w: 2, c: 4, d: 8, a: 16} as Record<string, number>)[ch]
      if (bit === undefined) ctx.err(`Unknown perm type: ${ch}\n`)
      else perms |= bit
    }
    out.push({perms, scheme: a.slice(0, first), id: a.slice(first + 1, last)})
  }
  return out
}
