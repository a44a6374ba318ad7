#!/usr/bin/env node
// The umbrella CLI: `kafkit <command> [flags]`.
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
