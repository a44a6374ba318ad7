// The registry of zkCli's CliCommands (the shell-level ones, quit, redo, history,
// printwatches and connect, live in the shell itself), and running one with the error
// handling ZooKeeperMain applies: KeeperExceptions become CliWrapperException's messages.
import {KeeperError, PathError} from '../../client.js'
import {CliError} from '../../options.js'
import {wrapperMessage} from '../format.js'
import type {CliCommand, ShellContext} from '../context.js'
import {ls, get, stat, create, set, remove, deleteall, sync, getEphemerals, getAllChildrenNumber} from './nodes.js'
import {getAcl, setAcl, addauth, whoami} from './acl.js'
import {addWatch, removewatches} from './watches.js'
import {setquota, listquota, delquota} from './quota.js'
import {config, reconfig, version, close} from './config.js'

export const CLI_COMMANDS: Record<string, CliCommand> = {
  ls, get, stat, create, set, delete: remove, deleteall, sync, getEphemerals, getAllChildrenNumber,
  getAcl, setAcl, addauth, whoami, addWatch, removewatches, setquota, listquota, delquota,
  config, reconfig, version, close,
}

/** Runs one CliCommand (it parses its options, then executes); errors as the Java shell reports them. */
export async function runCliCommand(ctx: ShellContext, cmd: string, tokens: string[]): Promise<void> {
  const command = CLI_COMMANDS[cmd]
  if (command === undefined) return
  try {
    await command.run(ctx, tokens)
  } catch (e) {
    if (e instanceof PathError) throw new CliError(e.message)
    if (e instanceof KeeperError) throw new CliError(wrapperMessage(e))
    throw e
  }
}
