#!/usr/bin/env node
// The addons at install time (npm 11 blocks dependencies' install scripts, so this is the root
// package's own `install`). An installed package ships prebuilds (prebuilds/, scripts/prebuild.js):
// when both load here (dist/capture/addon-loader.js picks them as node-gyp-build would), nothing is
// compiled. Otherwise, in a clone, or for a platform without a prebuild, they are built from
// native/ with node-gyp. Off Linux, or when the toolchain is missing, the build is skipped with one
// line: everything but live capture works.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

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
const loader = join(root, 'dist', 'capture', 'addon-loader.js')
// In a clone (.git here) the addons are compiled from the sources at hand, even when a `npm pack`
// left prebuilds/ behind.
if (existsSync(join(root, 'prebuilds')) && existsSync(loader) && !existsSync(join(root, '.git'))) {
  const { loadAddon, prebuildPath } = await import(pathToFileURL(loader).href)
  const addons = ['netkit_capture', 'netkit_socket']
  const paths = addons.map((a) => prebuildPath(a, root))
  const failed = addons.filter((a, i) => paths[i] === undefined || !loadAddon(a, [{ path: paths[i], from: 'prebuild' }]).module)
  if (failed.length === 0) {
    console.log(`netkit: using the prebuilt addons for ${process.platform}-${process.arch} (${dirname(paths[0])})`)
    process.exit(0)
  }
  console.log(`netkit: no prebuilt ${failed.join(', ')} loads on this machine (${process.platform}-${process.arch}); building from source`)
}
// A tool that is absent or does not run (CXX=false) makes the build fail: say so in one line.
const missing = ['make', process.env.CXX || 'g++', 'python3'].filter((tool) => spawnSync(tool.split(' ')[0], ['--version'], { stdio: 'ignore' }).status !== 0)
if (missing.length > 0) {
  console.log(`netkit: cannot build the capture addon: ${missing.join(', ')} not found or not working; \`netkit capture\` will report that live capture is unavailable (every other command works)`)
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
