// netkit as a user gets it: `npm pack` (with the prebuilt addons scripts/prebuild.js makes, as
// `prepack` does), then `npm install -g --prefix TMP netkit-*.tgz` with no compiler that works
// (PATH holding only node, npm and sh; CXX=false). From that prefix: read, filter -d and, as root
// in a network namespace, capture work, and --version says the addon is the prebuilt one. With
// the prebuilds removed, the install script says in one line that it cannot build the addon,
// --version says live capture is unavailable, capture exits 3 saying why, and read still works.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { corpus, have, netkit, root, run, tempDir } from '../helpers/cli.js'
import { captureSkip, createVethPair } from '../capture/netns.js'

const skip = process.platform !== 'linux' ? `the prebuilt addon is for Linux (this is ${process.platform})`
  : !have('npm') ? 'needs npm'
  : !have('g++') ? 'needs g++ to make the prebuilds (.ci/run installs it)'
  : false

test('npm pack, install on a prefix without a compiler, run from there', { skip }, async (t) => {
  const { dir, cleanup } = tempDir('netkit-packed-')
  t.after(cleanup)
  // dist/ and oclif.manifest.json are built by `npm test`'s pretest; prepack's prebuilds here.
  t.after(() => rmSync(join(root, 'prebuilds'), { recursive: true, force: true }))
  const prebuilt = await run(process.execPath, [join(root, 'scripts', 'prebuild.js')], { timeoutMs: 300_000 })
  assert.equal(prebuilt.code, 0, prebuilt.stderr + prebuilt.stdout)
  const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { timeoutMs: 120_000 })
  assert.equal(packed.code, 0, packed.stderr)
  const tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!)
  const listing = (await run('tar', ['tzf', tarball])).stdout.split('\n')
  for (const need of ['package/oclif.manifest.json', 'package/bin/run.js', 'package/scripts/build-native.js', 'package/native/binding.gyp', `package/prebuilds/linux-${process.arch}/netkit_capture.glibc.node`, `package/prebuilds/linux-${process.arch}/netkit_socket.glibc.node`]) {
    assert.ok(listing.includes(need), `the tarball lacks ${need}`)
  }
  assert.deepEqual(listing.filter((f) => /^package\/(test|bench|src|docs|native\/build)\//.test(f)), [], 'the tarball holds what an install does not need')

  await t.test('linux-arm64 prebuilds, cross-compiled, are packed too', { skip: process.arch !== 'x64' ? 'made only on linux-x64' : !have('aarch64-linux-gnu-g++') ? 'needs aarch64-linux-gnu-g++ (Debian g++-aarch64-linux-gnu; .ci/run installs it)' : false }, () => {
    for (const addon of ['netkit_capture', 'netkit_socket']) {
      const name = `prebuilds/linux-arm64/${addon}.glibc.node`
      assert.ok(listing.includes(`package/${name}`), `the tarball lacks ${name}`)
      const elf = readFileSync(join(root, name))
      // ELF magic, 64-bit (EI_CLASS 2), little-endian, ET_DYN, e_machine EM_AARCH64 (183).
      assert.deepEqual([elf.readUInt32BE(0), elf[4], elf[5], elf.readUInt16LE(16), elf.readUInt16LE(18)], [0x7f454c46, 2, 1, 3, 183])
    }
  })

  // A PATH with no compiler, make or python: node, npm and sh only.
  const bin = join(dir, 'nocc')
  mkdirSync(bin)
  for (const tool of ['node', 'npm', 'sh']) symlinkSync((await run('sh', ['-c', `command -v ${tool}`])).stdout.trim(), join(bin, tool))
  const prefix = join(dir, 'prefix')
  const env = { ...process.env, PATH: bin, CXX: 'false', CC: 'false', HOME: dir, npm_config_cache: join(process.env.HOME ?? '/root', '.npm'), XDG_DATA_HOME: join(dir, 'data'), XDG_CACHE_HOME: join(dir, 'cache') }
  const installed = await run('npm', ['install', '-g', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund'], { env, timeoutMs: 300_000 })
  assert.equal(installed.code, 0, installed.stderr)
  const nk = (args: string[]) => run(join(prefix, 'bin', 'netkit'), args, { env })

  const file = join(corpus, 'tcpdump', 'dns_udp.pcap')
  const read = await nk(['read', '-r', file])
  assert.equal(read.code, 0, read.stderr)
  assert.equal(read.stdout, (await netkit(['read', '-r', file])).stdout)
  assert.ok(read.stdout.split('\n').length > 2)
  const bpf = await nk(['filter', '-d', 'tcp port 80'])
  assert.equal(bpf.code, 0, bpf.stderr)
  if (have('tcpdump')) assert.equal(bpf.stdout, (await run('tcpdump', ['-d', 'tcp port 80'])).stdout)
  const version = await nk(['--version'])
  assert.match(version.stdout, new RegExp(`^capture addon: prebuilt \\(${prefix}/lib/node_modules/netkit/prebuilds/linux-${process.arch}/netkit_capture\\.glibc\\.node\\); live capture available$`, 'm'))

  await t.test('capture from the prefix, in a namespace', { skip: captureSkip() }, async () => {
    const pair = createVethPair()
    try {
      const out = join(dir, 'live.pcap')
      const child = pair.spawn(pair.ns, join(prefix, 'bin', 'netkit'), ['capture', '-i', pair.iface, '-c', '3', '-w', out])
      let err = ''
      child.stderr!.on('data', (d) => { err += d })
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
      for (let i = 0; i < 100 && !err.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 100))
      assert.match(err, /listening on/)
      pair.send(5, 200)
      assert.equal(await exited, 0, err)
      const frames = await nk(['read', '-r', out, '-T', 'fields', '-e', 'frame.len'])
      assert.equal(frames.stdout, '200\n200\n200\n')
    } finally {
      pair.cleanup()
    }
  })

  await t.test('without the prebuilds: one line from the install script, capture exits 3, read works', async () => {
    const pkg = join(prefix, 'lib', 'node_modules', 'netkit')
    rmSync(join(pkg, 'prebuilds'), { recursive: true })
    const script = await run(process.execPath, [join(pkg, 'scripts', 'build-native.js')], { env })
    assert.equal(script.code, 0, script.stderr)
    assert.match(script.stdout, /^netkit: cannot build the capture addon: (make|false|python3)[^\n]* not found or not working; `netkit capture` will report that live capture is unavailable/m)
    const v = await nk(['--version'])
    assert.match(v.stdout, /^capture addon: none; live capture unavailable: the capture addon is neither prebuilt for linux-\w+ nor compiled/m)
    const cap = await nk(['capture', '-i', 'lo', '-c', '1'])
    assert.equal(cap.code, 3, cap.stderr)
    assert.match(cap.stderr, /^netkit capture: the capture addon is neither prebuilt for linux-\w+ nor compiled; looked in .*\n$/)
    const again = await nk(['read', '-r', file])
    assert.equal(again.stdout, read.stdout)
  })
})
