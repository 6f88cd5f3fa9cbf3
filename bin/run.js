#!/usr/bin/env node
import { flush, run } from '@oclif/core'
import { reportFatal } from '../dist/cli/fatal.js'

// oclif's flush() waits for stdout to drain; a pipe whose reader quit never drains, it errors.
const stdoutGone = new Promise((resolve) => process.stdout.once('error', resolve))
await run(process.argv.slice(2), import.meta.url).then(() => Promise.race([flush(), stdoutGone]), reportFatal)
