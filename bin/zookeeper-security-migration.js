#!/usr/bin/env node
import {runAs} from './shim.js'

await runAs('zookeeper-security-migration')
