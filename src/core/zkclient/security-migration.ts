// zookeeper-security-migration's work (Kafka 3.9's ZkSecurityMigrator): set Kafka's default
// ACLs (zookeeper.set.acl's: creator all + world read, creator only on sensitive paths,
// /consumers open; or world-open everything for "unsecure") on the chroot's root and on every
// znode under Kafka's secure root paths, creating a missing root path first (except
// /controller). Its stdout lines are Kafka's: missing root paths, unexpected return codes.
import {ZkClient, KeeperError} from './client.js'
import {OPEN_ACL_UNSAFE, type Acl} from './codec.js'
import type {ZkClientSecurity} from './security.js'

/** Kafka's ZkData.SecureRootPaths, in its order. */
export const SECURE_ROOT_PATHS = [
  '/admin', '/brokers', '/cluster', '/config', '/controller', '/controller_epoch', '/isr_change_notification',
  '/latest_producer_id_block', '/log_dir_event_notification', '/delegation_token', '/kafka-acl-extended',
  '/migration', '/feature', '/kafka-acl', '/kafka-acl-changes', '/kafka-acl-extended/prefixed', '/kafka-acl-extended-changes',
]

/** Kafka's ZkData.SensitiveRootPaths. */
const SENSITIVE_ROOT_PATHS = ['/config/users', '/config/brokers', '/delegation_token/tokens']

/** Kafka's ZkData.defaultAcls(isSecure, path). */
export function kafkaZnodeAcls(secure: boolean, path: string): readonly Acl[] {
  if (!secure || path === '/consumers') return OPEN_ACL_UNSAFE
  const acls: Acl[] = [{perms: 31, scheme: 'auth', id: ''}]
  if (!SENSITIVE_ROOT_PATHS.some(p => path.startsWith(p))) acls.push({perms: 1, scheme: 'world', id: 'anyone'})
  return acls
}

export interface MigrationOptions {
  connect: string
  secure: boolean
  sessionTimeoutMs: number
  connectionTimeoutMs: number
  enablePathCheck: boolean
  security: ZkClientSecurity
  out: (line: string) => void
  log?: (line: string) => void
}

/** A failure that ends the tool: the Java exception line Kafka prints (stack trace shortened). */
export class MigrationError extends Error {}

/** Runs the migration; resolves with the exit code (1 when --enable.path.check found missing paths). */
export async function migrateAcls(o: MigrationOptions): Promise<number> {
  let expired = false
  const zk = new ZkClient(o.connect, {
    sessionTimeout: o.sessionTimeoutMs, tls: o.security.tls, sasl: o.security.sasl,
    onEvent: e => { if (e.type === -1 && e.state === -112) expired = true },
  })
  zk.start()
  try {
    await kafkaZkConnected(zk, o.connectionTimeoutMs, m => new MigrationError(m))
    const fail = (path: string, e: unknown): never => {
      if (!(e instanceof KeeperError)) throw e
      if (e.code === -112 || expired) o.out('ZooKeeper session expired while changing ACLs')
      else o.out(`Unexpected return code: ${e.code}`)
      throw new MigrationError(`org.apache.zookeeper.KeeperException$${exceptionName(e.code)}: KeeperErrorCode = ${codeText(e.code)} for ${path}`)
    }
    const setAcl = async (path: string): Promise<boolean> => {
      o.log?.(`Setting ACL for path ${path}`)
      try {
        await zk.setACL(path, kafkaZnodeAcls(o.secure, path), -1)
        o.log?.(`Successfully set ACLs for ${path}`)
        return true
      } catch (e) {
        if (e instanceof KeeperError && e.code === -101) {
          o.log?.(`Znode is gone, it could be have been legitimately deleted: ${path}`)
          return false
        }
        return fail(path, e)
      }
    }
    const recurse = async (path: string): Promise<void> => {
      await setAcl(path)
      let children: string[]
      try {
        children = await zk.getChildren(path)
      } catch (e) {
        if (e instanceof KeeperError && e.code === -101) return
        return fail(path, e)
      }
      for (const c of children) await recurse(path === '/' ? `/${c}` : `${path}/${c}`)
    }
    await setAcl('/')
    const missing: string[] = []
    for (const p of SECURE_ROOT_PATHS) if (await zk.exists(p).catch(e => fail(p, e)) === null) missing.push(p)
    if (missing.length > 0) {
      o.out(`Warning: The following secure root paths do not exist in ZooKeeper: ${missing.join(',')}`)
      o.out('That might be due to an incorrect chroot is specified when executing the command.')
      if (o.enablePathCheck) {
        o.out('Exit the command.')
        return 1
      }
    }
    for (const p of SECURE_ROOT_PATHS) {
      if (p === '/controller' && await zk.exists(p).catch(e => fail(p, e)) === null) continue
      await makeSurePersistentPathExists(zk, p, o.secure).catch(e => fail(p, e))
      await recurse(p)
    }
    return 0
  } finally {
    await zk.close()
  }
}

/** KafkaZkClient.makeSurePersistentPathExists: each missing level created with its default ACLs. */
async function makeSurePersistentPathExists(zk: ZkClient, path: string, secure: boolean): Promise<void> {
  let cur = ''
  for (const part of path.split('/').filter(x => x !== '')) {
    cur += `/${part}`
    try {
      await zk.create(cur, null, kafkaZnodeAcls(secure, cur), 0)
    } catch (e) {
      if (!(e instanceof KeeperError) || e.code !== -110) throw e
    }
  }
}

/**
 * Waits for the session as Kafka's ZooKeeperClient does before a ZooKeeper-mode tool works, with
 * its two messages (timed out in a state; auth failed); `fail` makes the error the tool throws.
 */
export function kafkaZkConnected(zk: ZkClient, timeoutMs: number, fail: (message: string) => Error = m => new Error(m)): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(fail(`kafka.zookeeper.ZooKeeperClientTimeoutException: Timed out waiting for connection while in state: ${zk.state === 'AUTH_FAILED' ? 'AUTH_FAILED' : 'CONNECTING'}`)), timeoutMs)
    const check = () => {
      if (zk.state === 'CONNECTED') { clearTimeout(t); resolve(); return }
      if (zk.state === 'AUTH_FAILED') { clearTimeout(t); reject(fail('kafka.zookeeper.ZooKeeperClientAuthFailedException: Auth failed either before or while waiting for connection')); return }
      setTimeout(check, 20)
    }
    check()
  })
}

const EXCEPTIONS: Record<number, [string, string]> = {
  [-4]: ['ConnectionLossException', 'ConnectionLoss'], [-101]: ['NoNodeException', 'NoNode'], [-102]: ['NoAuthException', 'NoAuth'],
  [-103]: ['BadVersionException', 'BadVersion'], [-112]: ['SessionExpiredException', 'Session expired'], [-114]: ['InvalidACLException', 'InvalidACL'],
  [-115]: ['AuthFailedException', 'AuthFailed'], [-124]: ['SessionClosedRequireAuthException', 'Session closed because client failed to authenticate'],
}
const exceptionName = (code: number) => EXCEPTIONS[code]?.[0] ?? 'SystemErrorException'
const codeText = (code: number) => EXCEPTIONS[code]?.[1] ?? `SystemError`
