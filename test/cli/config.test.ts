// Configuration: found by cosmiconfig (module name `netkit`) or named with --config, validated,
// errors naming the file; plugin paths resolved relative to the config file.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig, validateConfig } from '../../src/config.js'
import { ConfigError } from '../../src/errors.js'
import { corpus, netkit, tempDir } from '../helpers/cli.js'

// The search from a folder is what an unprivileged run does (as root nothing is searched for in
// the working folder: test/harden/root-safety.test.ts), so these tests ask for that explicitly.
const unprivileged = { privileged: false }
/** As root the CLI loads no configuration from the working folder; it is named with --config then. */
const asRoot = process.getuid?.() === 0

test('no configuration anywhere: defaults', async (t) => {
  const { dir, cleanup } = tempDir()
  t.after(cleanup)
  const c = await loadConfig(undefined, dir, unprivileged)
  assert.deepEqual(c, { plugins: [], builtinPlugins: true })
})

test('.netkitrc.json is found and plugin paths resolve against its folder', async (t) => {
  const { dir, cleanup } = tempDir()
  t.after(cleanup)
  writeFileSync(join(dir, '.netkitrc.json'), JSON.stringify({ plugins: ['./dns.js', 'some-package'] }))
  const c = await loadConfig(undefined, dir, unprivileged)
  assert.equal(c.filepath, join(dir, '.netkitrc.json'))
  assert.deepEqual(c.plugins, [join(dir, 'dns.js'), 'some-package'])
})

test('package.json#netkit and netkit.config.mjs are found too', async (t) => {
  const { dir, cleanup } = tempDir()
  t.after(cleanup)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', netkit: { plugins: ['./a.js'] } }))
  assert.deepEqual((await loadConfig(undefined, dir, unprivileged)).plugins, [join(dir, 'a.js')])
  const sub = join(dir, 'sub')
  mkdirSync(sub)
  writeFileSync(join(sub, 'netkit.config.mjs'), 'export default { plugins: ["../b.js"], builtinPlugins: false }\n')
  const c = await loadConfig(undefined, sub, unprivileged)
  assert.deepEqual(c.plugins, [join(dir, 'b.js')])
  assert.equal(c.builtinPlugins, false)
})

test('--config PATH loads exactly that file', async (t) => {
  const { dir, cleanup } = tempDir()
  t.after(cleanup)
  const file = join(dir, 'custom.json')
  writeFileSync(file, JSON.stringify({ plugins: ['./p.js'] }))
  assert.deepEqual((await loadConfig(file, '/')).plugins, [join(dir, 'p.js')])
  await assert.rejects(loadConfig(join(dir, 'missing.json')), (e: unknown) => e instanceof ConfigError && /missing\.json: no such configuration file/.test(e.message))
})

test('validation names the file and the problem', () => {
  assert.throws(() => validateConfig({ plugin: [] }, '/x/.netkitrc.json'), /\/x\/\.netkitrc\.json: unknown key 'plugin'/)
  assert.throws(() => validateConfig({ plugins: 'a.js' }, '/x/.netkitrc.json'), /'plugins' must be an array of module paths/)
  assert.throws(() => validateConfig({ plugins: [1] }, 'f'), /'plugins' must be an array/)
  assert.throws(() => validateConfig([1, 2], 'f'), /must be an object/)
  assert.throws(() => validateConfig({ builtinPlugins: 'yes' }, 'f'), /'builtinPlugins' must be true or false/)
})

test('the CLI reports a broken configuration in one line, exit 2', async (t) => {
  const { dir, cleanup } = tempDir()
  t.after(cleanup)
  writeFileSync(join(dir, '.netkitrc.json'), '{ "plugins": [ }')
  const file = join(corpus, 'tcpdump', 'dns_udp.pcap')
  const r = await netkit(['read', '-r', file, ...(asRoot ? ['--config', join(dir, '.netkitrc.json')] : [])], { cwd: dir })
  assert.equal(r.code, 2)
  assert.match(r.stderr, /^netkit read: .*\.netkitrc\.json: cannot load the configuration: .+\n$/)
  const bad = await netkit(['read', '-r', file, '--config', join(dir, 'nope.json')])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /nope\.json: no such configuration file\n$/)
})
