#!/usr/bin/env node
// Writes oclif.manifest.json after the build, so that running one command imports only that
// command's module instead of every file in dist/src/commands (oclif's own `oclif manifest`
// does the same; this avoids depending on the whole oclif CLI for one file).
import {Config} from '@oclif/core'
import {writeFileSync, rmSync} from 'node:fs'
import {join, dirname} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const file = join(root, 'oclif.manifest.json')
rmSync(file, {force: true})
const config = await Config.load({root, ignoreManifest: true})
const plugin = config.getPluginsList().find(p => p.root === config.root) ?? config.getPluginsList()[0]
const commands = {}
for (const [id, cmd] of Object.entries(plugin.manifest.commands)) {
  if (cmd.hidden && id === 'base') continue
  commands[id] = cmd
}
writeFileSync(file, JSON.stringify({commands, version: plugin.manifest.version}, null, 2) + '\n')
console.log(`oclif.manifest.json: ${Object.keys(commands).length} commands`)
