// Programmatic API: start a broker from a server.properties file or an object of settings.
//   const broker = await startBroker('config/server.properties', ['listeners=PLAINTEXT://127.0.0.1:0'])
//   broker.boundPorts()[0].port ... await broker.stop()
import {loadServerConfig, serverConfigFromProps} from '../config/server-config.js'
import {KafkaBroker} from './broker.js'

export {KafkaBroker} from './broker.js'

export async function startBroker(configFileOrObject: string | Record<string, string | number | boolean>, overrides: string[] = []): Promise<KafkaBroker> {
  const config = typeof configFileOrObject === 'string'
    ? loadServerConfig(configFileOrObject, overrides)
    : serverConfigFromProps(Object.fromEntries(Object.entries(configFileOrObject).map(([k, v]) => [k, String(v)])), '<object>', overrides)
  const broker = new KafkaBroker(config)
  await broker.start()
  return broker
}
