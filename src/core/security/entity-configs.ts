// User and client-id configs as Kafka keeps them in ZooKeeper: /config/users/<user>,
// /config/users/<user>/clients/<client-id>, /config/clients/<client-id> (names sanitized as
// Kafka's Sanitizer does, <default> for the defaults), each {"version":1,"config":{...}}.
// They hold SCRAM credentials (SCRAM-SHA-256=salt=...,stored_key=...) and quotas
// (producer_byte_rate, consumer_byte_rate, request_percentage). Loaded at start, kept current
// through /config/changes notifications; writes leave a notification as Kafka's tools do.
import type {ZkClient} from '../cluster/zk.js'
import type {Logger} from '../util/log.js'

export type EntityConfig = Record<string, string>

export const DEFAULT_ENTITY = '<default>'

/** Kafka's Sanitizer.sanitize: URL encoding with * as %2A and space as %20. */
export function sanitize(name: string): string {
  let out = ''
  for (const ch of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(ch)
    if (/[A-Za-z0-9._-]/.test(c)) out += c
    else out += '%' + ch.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

export function desanitize(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '))
  } catch {
    return name
  }
}

/** The znode of an entity path such as users/alice or users/alice/clients/app. */
export function entityZnode(entityPath: string): string {
  return `/config/${entityPath}`
}

export class EntityConfigStore {
  /** entity path (sanitized, as in ZooKeeper: users/alice, users/<default>/clients/x, clients/x) -> config. */
  readonly configs = new Map<string, EntityConfig>()
  private readonly listeners = new Set<(entityPath: string, config: EntityConfig | undefined) => void>()

  constructor(private readonly zk: () => ZkClient, private readonly logger: Logger) {}

  onChange(fn: (entityPath: string, config: EntityConfig | undefined) => void): void {
    this.listeners.add(fn)
  }

  /** Reads every user and client entity. */
  async load(): Promise<void> {
    const zk = this.zk()
    this.configs.clear()
    for (const user of await zk.getChildren('/config/users') ?? []) {
      await this.reload(`users/${user}`)
      for (const client of await zk.getChildren(`/config/users/${user}/clients`) ?? []) await this.reload(`users/${user}/clients/${client}`)
    }
    for (const client of await zk.getChildren('/config/clients') ?? []) await this.reload(`clients/${client}`)
  }

  /** Reads one entity again (a change notification named it). */
  async reload(entityPath: string): Promise<void> {
    let cfg: EntityConfig | undefined
    try {
      const r = await this.zk().getJson<{config?: EntityConfig}>(entityZnode(entityPath))
      cfg = r?.value.config
    } catch (error) {
      this.logger.warn(`Cannot read the config of ${entityPath}: ${(error as Error).message}`)
      return
    }
    if (cfg !== undefined && Object.keys(cfg).length > 0) this.configs.set(entityPath, cfg)
    else this.configs.delete(entityPath)
    for (const fn of this.listeners) fn(entityPath, this.configs.get(entityPath))
  }

  get(entityPath: string): EntityConfig | undefined {
    return this.configs.get(entityPath)
  }

  /**
   * Changes an entity's config in ZooKeeper (conditional on its version, retried), then writes
   * the change notification every broker acts on. mutate returns the new config.
   */
  async change(entityPath: string, mutate: (cur: EntityConfig) => EntityConfig): Promise<EntityConfig> {
    const zk = this.zk()
    const path = entityZnode(entityPath)
    for (let attempt = 0; ; attempt++) {
      const cur = await zk.getJson<{config?: EntityConfig}>(path)
      const next = mutate({...(cur?.value.config ?? {})})
      const data = JSON.stringify({version: 1, config: next})
      try {
        if (cur) await zk.set(path, data, cur.stat.version)
        else if ((await zk.exists(path)) !== undefined) await zk.set(path, data)
        else await zk.create(path, data, {parents: true})
      } catch (error) {
        const code = (error as {code?: number}).code
        if (attempt < 10 && (code === -103 || code === -110)) continue // BAD_VERSION, NODE_EXISTS: read again
        throw error
      }
      await zk.create('/config/changes/config_change_', JSON.stringify({version: 2, entity_path: entityPath}), {sequential: true})
      if (Object.keys(next).length > 0) this.configs.set(entityPath, next)
      else this.configs.delete(entityPath)
      for (const fn of this.listeners) fn(entityPath, this.configs.get(entityPath))
      return next
    }
  }
}
