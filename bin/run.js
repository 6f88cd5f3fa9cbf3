#!/usr/bin/env node
import { flush, run } from '@oclif/core'
import { reportFatal } from '../dist/cli/fatal.js'

await run(process.argv.slice(2), import.meta.url).then(() => flush(), reportFatal)
