// The files of dynamic reconfiguration, as Apache ZooKeeper 3.8 writes them: each activated
// configuration in <static file>.dynamic.<hex version> (its server, group and weight lines,
// sorted, without the version), the last proposed one in <static file>.dynamic.next, the
// static file rewritten without its server.N / group / weight / peerType lines (and its
// clientPort lines when the server line carries the client address) and pointing at the
// dynamic file, and, when a static file with server lines first starts with reconfigEnabled,
// a copy of it in <static file>.bak.
import {readFileSync, writeFileSync, renameSync, existsSync, unlinkSync, copyFileSync} from 'node:fs'
import {parseProperties} from '../../config/properties.js'
import type {QuorumVerifier} from './verifier.js'

function atomicWrite(file: string, text: string): void {
  const tmp = `${file}.tmp`
  writeFileSync(tmp, text)
  renameSync(tmp, file)
}

export function dynamicFileName(staticFile: string, version: number): string {
  return `${staticFile}.dynamic.${version.toString(16)}`
}

export function nextDynamicFileName(staticFile: string): string {
  return `${staticFile}.dynamic.next`
}

/** QuorumPeerConfig.writeDynamicConfig: the lines sorted; with the version line when keepVersion. */
export function writeDynamicConfig(file: string, qv: QuorumVerifier, keepVersion: boolean): void {
  const lines = qv.toString().split('\n').filter(l => keepVersion || !l.startsWith('version=')).sort()
  atomicWrite(file, lines.join('\n'))
}

/** QuorumPeerConfig.editStaticConfig: the static file without its dynamic lines, pointing at dynamicFile. */
export function editStaticConfig(staticFile: string, dynamicFile: string, eraseClientPort: boolean): void {
  const props = parseProperties(readFileSync(staticFile, 'latin1'), staticFile)
  let out = ''
  for (const [k, v] of props) {
    const key = k.trim()
    if (key.startsWith('server.') || key.startsWith('group') || key.startsWith('weight') || key.startsWith('dynamicConfigFile') || key.startsWith('peerType')) continue
    if (eraseClientPort && key.startsWith('clientPort')) continue
    out += `${key}=${v.trim()}\n`
  }
  out += `dynamicConfigFile=${dynamicFile.replace(/\\/g, '/')}\n`
  atomicWrite(staticFile, out)
}

export function backupStaticConfig(staticFile: string): void {
  copyFileSync(staticFile, `${staticFile}.bak`)
}

export function deleteIfExists(file: string): void {
  try {
    if (existsSync(file)) unlinkSync(file)
  } catch { /* Apache logs and goes on */ }
}
