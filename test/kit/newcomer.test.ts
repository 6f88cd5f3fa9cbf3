// docs/plugins.md's "Start here", followed as a new user would: scaffold a plugin into a new
// folder, run its own test, add a field, load it from a configuration, read real traffic
// (node:dgram datagrams recorded by tcpdump) with -T fields, and -T verbose with -Y on its fields,
// move its port with -o, map another port with -d, then `npm pack` it and load it by package
// name from another folder.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { netkit, needs, run, tempDir } from '../helpers/cli.js'
import { freeLowPort, isRoot, recordWithTcpdump } from '../helpers/servers.js'

/**
 * The test's configuration named with --config: run as root (as CI runs), netkit loads no
 * configuration it finds in the working folder; a user's own run finds it there.
 */
const cfg = (dir: string): string[] => ['--config', join(dir, '.netkitrc.json')]

const skip = !isRoot() ? 'needs root (tcpdump on lo records the traffic)' : needs('tcpdump', 'npm')

/** A message as the scaffold's protocol frames it: version 1, type, whole length, text. */
function message(type: number, text: string): Buffer {
  const m = Buffer.alloc(4 + text.length)
  m[0] = 1; m[1] = type; m.writeUInt16BE(m.length, 2); m.write(text, 4, 'latin1')
  return m
}

/** Sends `sends` (port, message) from one client socket to listeners on 127.0.0.1, recorded by tcpdump. */
async function record(file: string, ports: number[], sends: Array<[number, Buffer]>): Promise<void> {
  const listeners = await Promise.all(ports.map((p) => new Promise<dgram.Socket>((resolve) => {
    const s = dgram.createSocket('udp4')
    s.bind(p, '127.0.0.1', () => resolve(s))
  })))
  const received = new Promise<void>((resolve) => {
    let n = 0
    for (const s of listeners) s.on('message', () => { if (++n === sends.length) resolve() })
  })
  const client = dgram.createSocket('udp4')
  try {
    await recordWithTcpdump(file, ports.map((p) => `udp port ${p}`).join(' or '), async () => {
      for (const [port, m] of sends) await new Promise<void>((resolve, reject) => client.send(m, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())))
      await received
    }, 1)
  } finally {
    client.close()
    for (const s of listeners) s.close()
  }
}

test('a newcomer scaffolds, tests, edits, loads, runs, packs and installs a dissector', { skip }, async (t) => {
  const { dir, cleanup } = tempDir('netkit-newcomer-')
  t.after(cleanup)
  const [port, moved, mapped] = [await freeLowPort(), await freeLowPort(), await freeLowPort()]
  const plugin = join(dir, 'nkp')

  // 1. Scaffold, and the scaffold's own test passes as generated.
  const made = await netkit(['dissectors', 'new', 'nkp', '--udp', String(port), '--dir', plugin], { cwd: dir })
  assert.equal(made.code, 0, made.stderr)
  assert.match(made.stdout, /"plugins": \[".*nkp"\]/)
  assert.deepEqual(readdirSync(plugin).sort(), ['README.md', 'index.test.js', 'index.ts', 'node_modules', 'package.json'])
  // (Without this runner's NODE_TEST_CONTEXT, the child reports as a test run of its own.)
  const { NODE_TEST_CONTEXT: _, ...env } = process.env
  const own = await run('npm', ['test'], { cwd: plugin, env })
  assert.equal(own.code, 0, own.stdout + own.stderr)
  assert.match(own.stdout, /# pass 1/)

  // 2. Add a field: the payload's length.
  const source = join(plugin, 'index.ts')
  let ts = readFileSync(source, 'utf8')
  ts = ts.replace("    payload: { name: 'nkp.payload', type: 'string', label: 'Payload' },",
    "    payload: { name: 'nkp.payload', type: 'string', label: 'Payload' },\n    payloadLength: { name: 'nkp.payload_len', type: 'uint', label: 'Payload length' },")
  ts = ts.replace('    ctx.add(f.payload, HEADER_LENGTH,', '    ctx.set(f.payloadLength, length - HEADER_LENGTH)\n    ctx.add(f.payload, HEADER_LENGTH,')
  assert.match(ts, /payload_len[\s\S]*ctx\.set\(f\.payloadLength/, 'the edit applies to the scaffold as written')
  writeFileSync(source, ts)

  // 3. Real traffic: two messages to the plugin's port, one to each of two other ports.
  const pcap = join(dir, 'nkp.pcap')
  await record(pcap, [port, moved, mapped], [
    [port, message(0x01, 'hi there')], [port, message(0x82, 'urgent data')],
    [moved, message(0x02, 'moved')], [mapped, message(0x03, 'mapped')],
  ])

  // 4. Load from a configuration in that folder; -T fields, -T verbose, -Y.
  writeFileSync(join(dir, '.netkitrc.json'), JSON.stringify({ plugins: ['./nkp'] }))
  const fields = ['-T', 'fields', '-e', 'udp.dstport', '-e', 'nkp.kind', '-e', 'nkp.type.urgent', '-e', 'nkp.payload_len', '-e', 'nkp.payload']
  const read = await netkit(['read', ...cfg(dir), '-r', pcap, ...fields], { cwd: dir })
  assert.equal(read.stderr, '')
  assert.equal(read.stdout, `${port}\t1\t0\t8\thi there\n${port}\t2\t1\t11\turgent data\n${moved}\t\t\t\t\n${mapped}\t\t\t\t\n`)
  const verbose = await netkit(['read', ...cfg(dir), '-r', pcap, '-T', 'verbose', '-Y', 'nkp.kind == data && nkp.payload_len > 3'], { cwd: dir })
  assert.deepEqual([...verbose.stdout.matchAll(/^Frame (\d+):/gm)].map((m) => m[1]), ['2'], 'the filter keeps the data message')
  assert.match(verbose.stdout, /^NKP Protocol\n {4}Version: 1\n {4}Type: 0x82\n {4}1\.\.\. \.\.\.\. = Urgent: 1\n {4}\.000 0010 = Kind: data \(2\)\n {4}Length: 15\n {4}Payload length: 11\n {4}Payload: urgent data$/m)

  // 5. -o moves the port; -d maps another one.
  const o = await netkit(['read', ...cfg(dir), '-r', pcap, '-o', `nkp.port:${moved}`, '-Y', 'nkp', ...fields], { cwd: dir })
  assert.equal(o.stdout, `${moved}\t2\t0\t5\tmoved\n`)
  const shown = await netkit(['dissectors', ...cfg(dir), 'nkp', '-o', `nkp.port:${moved}`], { cwd: dir })
  assert.match(shown.stdout, new RegExp(`preference nkp\\.port \\(uint\\) = ${moved} \\(default ${port}\\)`))
  const typo = await netkit(['dissectors', ...cfg(dir), 'nkp', '-o', 'nkp.prot:7000'], { cwd: dir })
  assert.equal(typo.code, 2)
  assert.match(typo.stderr, /nkp has no preference 'prot' \(it has: port\)/)
  const d = await netkit(['read', ...cfg(dir), '-r', pcap, '-d', `udp.port==${mapped},nkp`, '-Y', 'nkp', ...fields], { cwd: dir })
  assert.equal(d.stdout, `${port}\t1\t0\t8\thi there\n${port}\t2\t1\t11\turgent data\n${mapped}\t3\t0\t6\tmapped\n`)

  // 6. npm pack, install the tarball in another folder, load the plugin there by package name.
  const elsewhere = join(dir, 'elsewhere')
  mkdirSync(elsewhere)
  const packed = await run('npm', ['pack', '--pack-destination', elsewhere], { cwd: plugin })
  assert.equal(packed.code, 0, packed.stderr)
  const tarball = packed.stdout.trim().split('\n').at(-1)!
  assert.equal(tarball, 'netkit-dissector-nkp-0.1.0.tgz')
  const installed = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--legacy-peer-deps', `./${tarball}`], { cwd: elsewhere })
  assert.equal(installed.code, 0, installed.stderr)
  writeFileSync(join(elsewhere, '.netkitrc.json'), JSON.stringify({ plugins: ['netkit-dissector-nkp'] }))
  const byName = await netkit(['read', ...cfg(elsewhere), '-r', pcap, ...fields], { cwd: elsewhere })
  assert.equal(byName.stderr, '')
  assert.equal(byName.stdout, read.stdout)
})
