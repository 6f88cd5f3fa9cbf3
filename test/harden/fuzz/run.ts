/**
 * `npm run fuzz [-- --seconds N --target NAME]`: runs each fuzz target (targets.ts) for N seconds
 * (default 60) in its own child process, so that a hang (no progress for N + 60 s) or memory
 * past MAX_RSS is caught and reported as a finding rather than stopping the run. Prints one line
 * per target and the counterexample of each finding (with fast-check's seed and path, to replay
 * it: --seed S --path P); exits 1 when anything was found.
 */
import fc from 'fast-check'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { targets } from './targets.js'

/** Memory past which a target counts as unbounded (the parsers keep bounded state). */
const MAX_RSS = 1024 * 1024 * 1024

const argv = process.argv.slice(2)
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : undefined
}
const seconds = Number(arg('--seconds') ?? '60')
const only = arg('--target')

if (argv.includes('--child')) {
  const target = targets.find((t) => t.name === only)!
  const seed = arg('--seed')
  const path = arg('--path')
  const property = await target.property()
  // Memory is sampled while the target runs; past MAX_RSS it is a finding.
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss
    if (rss > MAX_RSS) {
      process.stdout.write(`FINDING ${target.name}: memory ${rss >> 20} MiB, above ${MAX_RSS >> 20} MiB\n`)
      process.exit(1)
    }
  }, 250)
  sampler.unref()
  const details = await fc.check(property, {
    numRuns: seed !== undefined ? 1 : Number.MAX_SAFE_INTEGER,
    interruptAfterTimeLimit: seconds * 1000,
    markInterruptAsFailure: false,
    seed: seed === undefined ? undefined : Number(seed),
    path,
    endOnFailure: true,
  })
  if (details.failed) {
    process.stdout.write(`FINDING ${target.name}: ${details.errorInstance instanceof Error ? details.errorInstance.stack : String(details.errorInstance)}\ncounterexample: ${fc.stringify(details.counterexample)}\nreplay: npm run fuzz -- --target ${target.name} --seed ${details.seed} --path ${details.counterexamplePath}\n`)
    process.exit(1)
  }
  process.stdout.write(`ok ${target.name}: ${details.numRuns} runs in ${seconds} s, nothing found\n`)
  process.exit(0)
}

let found = 0
for (const target of targets) {
  if (only !== undefined && target.name !== only) continue
  const skip = target.skip?.()
  if (skip) {
    process.stdout.write(`skip ${target.name}: ${skip}\n`)
    continue
  }
  const extra = [arg('--seed') && ['--seed', arg('--seed')!], arg('--path') && ['--path', arg('--path')!]].filter(Boolean).flat() as string[]
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', '--target', target.name, '--seconds', String(seconds), ...extra], { stdio: ['ignore', 'inherit', 'inherit'] })
    const timer = setTimeout(() => {
      process.stdout.write(`FINDING ${target.name}: hang (no end ${seconds + 60} s after start)\n`)
      child.kill('SIGKILL')
    }, (seconds + 60) * 1000)
    child.on('close', (c) => { clearTimeout(timer); resolve(c) })
  })
  if (code !== 0) found++
}
process.exit(found > 0 ? 1 : 0)
