#!/usr/bin/env node
// A hot command line (dist/cli/fast-path.js) runs without loading oclif; every other line,
// and any the fast path is not sure to read as oclif does, goes to oclif as it always has.
import { runFast } from '../dist/cli/fast-path.js'

if (!(await runFast(process.argv.slice(2)))) {
  const { flush, run } = await import('@oclif/core')
  const { reportFatal } = await import('../dist/cli/fatal.js')
  const { oclifConfig } = await import('../dist/cli/oclif-config.js')
  // oclif's flush() waits for stdout to drain; a pipe whose reader quit never drains, it errors.
  const stdoutGone = new Promise((resolve) => process.stdout.once('error', resolve))
  await oclifConfig(import.meta.url).then((config) => run(process.argv.slice(2), config)).then(() => Promise.race([flush(), stdoutGone]), reportFatal)
}
