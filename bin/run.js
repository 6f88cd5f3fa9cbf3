#!/usr/bin/env node
// A hot command line (dist/cli/fast-path.js) runs without loading oclif; every other line,
// and any the fast path is not sure to read as oclif does, goes to oclif as it always has.
import { runFast } from '../dist/cli/fast-path.js'

if (!(await runFast(process.argv.slice(2)))) {
  const { flush, run } = await import('@oclif/core')
  const { reportFatal } = await import('../dist/cli/fatal.js')
  await run(process.argv.slice(2), import.meta.url).then(() => flush(), reportFatal)
}
