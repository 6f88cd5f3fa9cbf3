#!/usr/bin/env node
// Builds the capture addon from source during the root package's own `npm install`
// (npm 11 blocks dependencies' install scripts, so the build lives here). Off Linux, or when
// the toolchain is missing, the build is skipped with one line: everything but live capture works.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const native = join(root, 'native')

if (process.platform !== 'linux') {
  console.log(`netkit: skipping the capture addon (live capture needs Linux; this is ${process.platform})`)
  process.exit(0)
}
if (!existsSync(join(native, 'binding.gyp'))) {
  console.log('netkit: no native/binding.gyp; skipping the capture addon')
  process.exit(0)
}
const gyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
const args = existsSync(gyp) ? [gyp, 'rebuild'] : [join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'), 'rebuild']
// The headers that ship with this Node (e.g. Debian's /usr/include/node) match it exactly and need
// no download, so an offline machine builds too.
const prefix = join(dirname(process.execPath), '..')
if (existsSync(join(prefix, 'include', 'node', 'node_api.h')) && existsSync(join(prefix, 'include', 'node', 'common.gypi'))) {
  args.push(`--nodedir=${prefix}`)
}
const r = spawnSync(process.execPath, args, { cwd: native, stdio: 'inherit' })
if (r.status !== 0) {
  console.log('netkit: the capture addon did not build; `netkit capture` will report that live capture is unavailable')
}
process.exit(0)
