#!/usr/bin/env node
import { execute } from '@oclif/core'
import { reportFatal } from '../dist/cli/fatal.js'

await execute({ dir: import.meta.url }).catch(reportFatal)
