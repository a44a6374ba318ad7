// Shared body of the per-script shims (kafka-topics.js, ...): runs one oclif command by name,
// so that npm's own .cmd/.ps1 (Windows) and symlinks (Unix) make each Kafka script a command.
import {execute} from '@oclif/core'

export async function runAs(command) {
  await execute({dir: import.meta.url, args: [command, ...process.argv.slice(2)]})
}
