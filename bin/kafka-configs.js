#!/usr/bin/env node
import {runAs} from './shim.js'

await runAs('kafka-configs')
