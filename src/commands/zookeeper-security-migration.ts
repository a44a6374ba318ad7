// zookeeper-security-migration: Kafka 3.9's ZkSecurityMigrator. Sets Kafka's ACLs on its znodes
// (--zookeeper.acl secure: creator all + world read, creator only on sensitive paths; unsecure:
// world-open) after a cluster moved to (or away from) zookeeper.set.acl=true. The tool needs an
// identity: SASL from the JAAS Client section (-Djava.security.auth.login.config in KAFKA_OPTS)
// or a TLS client certificate (--zk-tls-config-file with zookeeper.ssl.client.enable,
// zookeeper.clientCnxnSocket and zookeeper.ssl.keystore.location, or the same settings as
// -Dzookeeper.client.secure / -Dzookeeper.ssl.* system properties in KAFKA_OPTS, the file's keys
// winning), checked as Kafka checks them.
import {Flags} from '@oclif/core'
import {KafkaCommand, ToolError, writeLineSync} from './base.js'
import {jaasFileFromEnv} from '../core/config/zk-security.js'
import {zkClientSecurity, zkClientSasl} from '../core/zkclient/security.js'
import {loadZkTlsConfigFile, ZK_TLS_CONFIG_KEYS} from '../core/zkclient/tls-config-file.js'
import {migrateAcls, MigrationError} from '../core/zkclient/security-migration.js'
import {jvmSystemProperties, ZK_TOOL_JVM_OPTION_VARS} from '../core/zkclient/system-properties.js'
import {zkClientConfigWithSystemProperties} from '../core/zookeeper/tls.js'

const USAGE = 'ZooKeeper Migration Tool Help. This tool updates the ACLs of znodes as part of the process of setting up ZooKeeper authentication.'

export default class ZooKeeperSecurityMigration extends KafkaCommand {
  static hidden = false
  static summary = 'Set Kafka\'s ACLs on its znodes (zookeeper-security-migration.sh).'
  static description = USAGE + ' With --zookeeper.acl secure every Kafka znode gets the ACLs a broker with zookeeper.set.acl=true gives it; unsecure opens them to everyone. The tool authenticates with SASL DIGEST-MD5 from the JAAS file\'s Client section (-Djava.security.auth.login.config=<file> in KAFKA_OPTS) or with a TLS client certificate (--zk-tls-config-file, or -Dzookeeper.client.secure=true -Dzookeeper.clientCnxnSocket=... -Dzookeeper.ssl.keyStore.location=... in KAFKA_OPTS).'
  static examples = [
    'KAFKA_OPTS=-Djava.security.auth.login.config=jaas.conf <%= config.bin %> --zookeeper.acl secure --zookeeper.connect localhost:2181',
    '<%= config.bin %> --zookeeper.acl unsecure --zookeeper.connect localhost:2182 --zk-tls-config-file zk-tls.properties',
  ]
  static flags = {
    'zookeeper.acl': Flags.string({description: 'Indicates whether to make the Kafka znodes in ZooKeeper secure or unsecure. The options are \'secure\' and \'unsecure\''}),
    'zookeeper.connect': Flags.string({description: 'Sets the ZooKeeper connect string (ensemble). This parameter takes a comma-separated list of host:port pairs.', default: 'localhost:2181'}),
    'zookeeper.session.timeout': Flags.integer({description: 'Sets the ZooKeeper session timeout.', default: 30000}),
    'zookeeper.connection.timeout': Flags.integer({description: 'Sets the ZooKeeper connection timeout.', default: 30000}),
    'enable.path.check': Flags.boolean({description: 'Checks if all the root paths exist in ZooKeeper before migration. If not, exit the command.'}),
    'zk-tls-config-file': Flags.string({description: `Identifies the file where ZooKeeper client TLS connectivity properties are defined.  Any properties other than ${ZK_TLS_CONFIG_KEYS.join(', ')} are ignored.`}),
    version: Flags.boolean({description: 'Display Kafka version.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(ZooKeeperSecurityMigration)
    if (flags.version) {
      process.stdout.write('3.9.0\n')
      return
    }
    const tlsFile = flags['zk-tls-config-file']
    let tlsProps = new Map<string, string>()
    if (tlsFile !== undefined) {
      try {
        tlsProps = loadZkTlsConfigFile(tlsFile)
      } catch (e) {
        throw new ToolError((e as Error).message)
      }
    }
    const get = (k: string) => tlsProps.get(k)
    // Kafka checks the ZooKeeper client config the tool will use: the -D system properties of
    // KAFKA_OPTS with the --zk-tls-config-file keys over them.
    const all = zkClientConfigWithSystemProperties(get, jvmSystemProperties(process.env, ZK_TOOL_JVM_OPTION_VARS)).get
    const tlsClientAuth = all('zookeeper.ssl.client.enable') === 'true' && all('zookeeper.clientCnxnSocket') !== undefined && all('zookeeper.ssl.keystore.location') !== undefined
    const jaas = jaasFileFromEnv()
    if (jaas === undefined && !tlsClientAuth) {
      writeLineSync(2, 'ERROR: No JAAS configuration file has been specified and no TLS client certificate has been specified. Please make sure that you set the system property java.security.auth.login.config or provide a ZooKeeper client TLS configuration via --zk-tls-config-file <filename> identifying at least zookeeper.ssl.client.enable, zookeeper.clientCnxnSocket, and zookeeper.ssl.keystore.location')
      throw new ToolError('java.lang.IllegalArgumentException: Incorrect configuration')
    }
    if (!tlsClientAuth && zkClientSasl(undefined) === undefined) {
      writeLineSync(1, `ERROR: Security isn't enabled, most likely the file isn't set properly: ${jaas?.file ?? 'null'}`)
      throw new ToolError('java.lang.IllegalArgumentException: Incorrect configuration')
    }
    const acl = flags['zookeeper.acl']
    if (acl !== 'secure' && acl !== 'unsecure') {
      writeLineSync(2, USAGE)
      writeLineSync(2, ZooKeeperSecurityMigration.optionTable())
      process.exit(1)
    }
    const security = zkClientSecurity(get, tlsFile ?? '<no --zk-tls-config-file>')
    let code: number
    try {
      code = await migrateAcls({
        connect: flags['zookeeper.connect'], secure: acl === 'secure', sessionTimeoutMs: flags['zookeeper.session.timeout'],
        connectionTimeoutMs: flags['zookeeper.connection.timeout'], enablePathCheck: flags['enable.path.check'], security,
        out: line => writeLineSync(1, line),
      })
    } catch (e) {
      if (e instanceof MigrationError) throw new ToolError(e.message)
      throw e
    }
    if (code !== 0) process.exit(code)
  }

  /** Kafka's option table, as joptsimple prints it for a usage error. */
  static optionTable(): string {
    const rows: Array<[string, string]> = [
      ['--enable.path.check', ZooKeeperSecurityMigration.flags['enable.path.check'].description!],
      ['--help', 'Print usage information.'],
      ['--version', 'Display Kafka version.'],
      ['--zk-tls-config-file <String: ZooKeeper TLS configuration>', ZooKeeperSecurityMigration.flags['zk-tls-config-file'].description!],
      ['--zookeeper.acl <String>', ZooKeeperSecurityMigration.flags['zookeeper.acl'].description!],
      ['--zookeeper.connect <String>', `${ZooKeeperSecurityMigration.flags['zookeeper.connect'].description!} (default: localhost:2181)`],
      ['--zookeeper.connection.timeout <Integer>', `${ZooKeeperSecurityMigration.flags['zookeeper.connection.timeout'].description!} (default: 30000)`],
      ['--zookeeper.session.timeout <Integer>', `${ZooKeeperSecurityMigration.flags['zookeeper.session.timeout'].description!} (default: 30000)`],
    ]
    return ['Option                                  Description', '------                                  -----------', ...rows.map(([o, d]) => `${o.padEnd(40)}${d}`)].join('\n')
  }
}
