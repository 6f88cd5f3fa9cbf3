// `netkit plugins link` (oclif's plugin manager) of a package the test makes: one command and one
// dissector. The command runs, `netkit dissectors` lists the dissector under the package's name,
// and reading real traffic (node:dgram recorded by tcpdump on lo) shows its fields. Run as root,
// a linked package belonging to another user is not loaded: neither its command nor its dissector.
// oclif's data and cache folders point into the test's temp dir, so nothing is left in $HOME.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { chownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { netkit, needs, root, tempDir } from '../helpers/cli.js'
import { freeLowPort, isRoot, recordWithTcpdump } from '../helpers/servers.js'

test('netkit plugins link: a package of one command and one dissector', async (t) => {
  const { dir, cleanup } = tempDir('netkit-plugins-')
  t.after(cleanup)
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CACHE_HOME: join(dir, 'cache'), XDG_CONFIG_HOME: join(dir, 'config') }
  const pkg = join(dir, 'nkp')
  const port = await freeLowPort()
  const made = await netkit(['dissectors', 'new', 'nkp', '--udp', String(port), '--dir', pkg, '--js'], { env })
  assert.equal(made.code, 0, made.stderr)
  // The command half: an oclif command that resolves @oclif/core as an installed plugin would.
  mkdirSync(join(pkg, 'commands'))
  writeFileSync(join(pkg, 'commands', 'nkp-hello.js'), `import { Command } from '@oclif/core'
export default class Hello extends Command {
  static summary = 'Say hello from the nkp package'
  async run() { this.log('hello from nkp') }
}
`)
  mkdirSync(join(pkg, 'node_modules', '@oclif'), { recursive: true })
  symlinkSync(join(root, 'node_modules', '@oclif', 'core'), join(pkg, 'node_modules', '@oclif', 'core'))
  const pjson = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'))
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ ...pjson, oclif: { commands: './commands' }, netkit: { dissectors: ['./index.js'] } }, null, 2))

  const linked = await netkit(['plugins', 'link', pkg, '--no-install'], { env })
  assert.equal(linked.code, 0, linked.stderr)
  const list = await netkit(['plugins'], { env })
  // oclif colours the version where it thinks the terminal can show it (CI=true can make it think so).
  const plain = list.stdout.replace(/\u001b\[[0-9;]*m/g, '')
  assert.match(plain, new RegExp(`^netkit-dissector-nkp 0\\.1\\.0 \\(link\\) ${pkg}$`, 'm'))

  const hello = await netkit(['nkp-hello'], { env })
  assert.equal(hello.code, 0, hello.stderr)
  assert.equal(hello.stdout, 'hello from nkp\n')
  assert.equal(hello.stderr, '')

  const listed = await netkit(['dissectors', 'nkp'], { env })
  assert.equal(listed.code, 0, listed.stderr)
  assert.match(listed.stdout, new RegExp(`^nkp  NKP Protocol  \\[udp\\.port=${port}\\]\\n    from netkit-dissector-nkp \\(${join(pkg, 'index.js')}\\)\\n`))

  await t.test('a capture read shows its fields', { skip: !isRoot() ? 'needs root (tcpdump on lo records the traffic)' : needs('tcpdump') }, async () => {
    const pcap = join(dir, 'nkp.pcap')
    const message = Buffer.from('\x01\x02\x00\x0bhello!!', 'latin1') // version 1, type 2 (data), length 11
    const sock = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => sock.bind(port, '127.0.0.1', () => resolve()))
    try {
      await recordWithTcpdump(pcap, `udp port ${port}`, async () => {
        const got = new Promise((resolve) => sock.once('message', resolve))
        sock.send(message, port, '127.0.0.1')
        await got
      })
    } finally {
      sock.close()
    }
    const r = await netkit(['read', '-r', pcap, '-T', 'fields', '-e', 'nkp.version', '-e', 'nkp.kind', '-e', 'nkp.length', '-e', 'nkp.payload'], { env })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '1\t2\t11\thello!!\n')
  })

  await t.test('as root, a package belonging to another user is not loaded', { skip: !isRoot() && 'needs root' }, async () => {
    chownSync(pkg, 65534, 65534)
    try {
      const refused = await netkit(['nkp-hello'], { env })
      assert.equal(refused.code, 2)
      assert.match(refused.stderr, new RegExp(`^netkit: plugin netkit-dissector-nkp is not loaded with privileges: ${pkg}: it belongs to uid 65534`))
      assert.doesNotMatch(refused.stdout, /hello/)
      const r = await netkit(['dissectors', '--json'], { env })
      assert.ok(!(JSON.parse(r.stdout) as Array<{ name: string }>).some((d) => d.name === 'nkp'))
      assert.match(r.stderr, /netkit dissectors: warning: plugin package netkit-dissector-nkp: not loaded with privileges/)
    } finally {
      chownSync(pkg, 0, 0)
    }
  })

  const unlinked = await netkit(['plugins', 'uninstall', 'netkit-dissector-nkp'], { env })
  assert.equal(unlinked.code, 0, unlinked.stderr)
  const gone = await netkit(['nkp-hello'], { env })
  assert.equal(gone.code, 2)
})
