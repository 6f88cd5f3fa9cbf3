#!/usr/bin/env node
// Makes the prebuilt addons the package ships (run by `prepack`, so `npm pack` and `npm publish`
// carry ones built from the sources they ship): prebuildify, once per target of
// native/binding.gyp, into prebuilds/<platform>-<arch>/<target>.<tags>.node. They are N-API
// (NAPI_VERSION 8), so one file serves every Node from 20 on; libc is tagged (glibc or musl) so a
// musl system never loads a glibc build. prebuildify copies the first .node file a build leaves,
// so each target is built alone, from a one-target binding.gyp written into native/build-prebuild/.
// On linux-x64 with Debian's cross compiler (g++-aarch64-linux-gnu, which .ci/run installs), the
// linux-arm64 prebuilds are made too; without it, one line says they are not. A musl build would
// need a musl C++ toolchain, which Debian does not package (musl-tools has no g++).
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const native = join(root, 'native')
const require = createRequire(import.meta.url)
const prebuildify = require('prebuildify')

// The headers of this Node (e.g. Debian's /usr/include/node) need no download (build-native.js).
const prefix = join(dirname(process.execPath), '..')
process.env.npm_config_nodedir ??= prefix

// binding.gyp is JSON with gyp's Python-style comments allowed; netkit's has none.
const gyp = JSON.parse(readFileSync(join(native, 'binding.gyp'), 'utf8'))
/** Builds every target of binding.gyp for `arch`, with `env` (the cross compiler) over process.env. */
async function prebuildAll(arch, env = {}, stripBin = 'strip') {
  for (const target of gyp.targets) {
    const cwd = join(native, 'build-prebuild', `${target.target_name}-${arch}`)
    rmSync(cwd, { recursive: true, force: true })
    mkdirSync(cwd, { recursive: true })
    const one = { ...gyp, targets: [{ ...target, sources: target.sources.map((s) => relative(cwd, join(native, s))) }] }
    writeFileSync(join(cwd, 'binding.gyp'), JSON.stringify(one, null, 2))
    const saved = { ...process.env }
    Object.assign(process.env, env) // prebuildify hands process.env to node-gyp
    try {
      await new Promise((resolve, reject) => prebuildify({
        cwd, out: root, name: target.target_name, napi: true, strip: true, stripBin, tagLibc: true, quiet: true, arch,
        targets: [{ runtime: 'node', target: process.versions.node }],
        nodeGyp: join(root, 'node_modules', '.bin', 'node-gyp'),
      }, (err) => (err ? reject(err) : resolve())))
    } finally {
      for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]
    }
    console.log(`netkit: prebuilt ${target.target_name} for ${process.platform}-${arch}`)
  }
}

rmSync(join(root, 'prebuilds'), { recursive: true, force: true })
await prebuildAll(process.arch)
const cross = 'aarch64-linux-gnu-'
if (process.platform === 'linux' && process.arch === 'x64') {
  if (spawnSync(`${cross}g++`, ['--version'], { stdio: 'ignore' }).status === 0) {
    await prebuildAll('arm64', { CC: `${cross}gcc`, CXX: `${cross}g++`, LINK: `${cross}g++`, AR: `${cross}ar` }, `${cross}strip`)
  } else {
    console.log(`netkit: no ${cross}g++ (Debian: g++-aarch64-linux-gnu): not making the linux-arm64 prebuilds`)
  }
}
rmSync(join(native, 'build-prebuild'), { recursive: true, force: true })
