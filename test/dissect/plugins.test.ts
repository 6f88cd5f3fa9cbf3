// A user's plugin, written as docs/plugins.md says (the test takes the example from the doc
// itself) and loaded from .netkitrc.json, decodes its protocol; its fields work with -T fields;
// `netkit dissectors` shows it; a broken or clashing plugin is reported and the others load.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { netkit, root, tempDir } from '../helpers/cli.js'
import { pcapHeader, pcapRecord } from '../helpers/capture-builder.js'

/**
 * Runs netkit in `dir`, whose .netkitrc.json it finds; as root, where nothing is searched for in
 * the working folder (test/harden/root-safety.test.ts), the file is named with --config instead.
 */
function netkitIn(dir: string, args: string[]) {
  const config = process.getuid?.() === 0 ? ['--config', join(dir, '.netkitrc.json')] : []
  return netkit([...args, ...config], { cwd: dir })
}

/** The ```js examples of docs/plugins.md, in order. */
function docExamples(): string[] {
  const doc = readFileSync(join(root, 'docs', 'plugins.md'), 'utf8')
  const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])
  assert.ok(blocks.length >= 2, 'docs/plugins.md has the plugin and its InfoLine variant')
  return blocks
}

/** The worked example plugin of docs/plugins.md. */
function docExample(): string {
  return docExamples()[0]
}

/** An Ethernet/IPv4/UDP frame to port 9999 carrying `payload`. */
function udpFrame(payload: Buffer, dport = 9999): Buffer {
  const f = Buffer.alloc(42 + payload.length)
  Buffer.from('020000000002020000000001', 'hex').copy(f, 0)
  f.writeUInt16BE(0x0800, 12)
  f[14] = 0x45; f.writeUInt16BE(28 + payload.length, 16); f[22] = 64; f[23] = 17
  Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]).copy(f, 26)
  f.writeUInt16BE(5000, 34); f.writeUInt16BE(dport, 36); f.writeUInt16BE(8 + payload.length, 38)
  payload.copy(f, 42)
  return f
}

function nkp(type: number, seq: number, text: string, lie = 0): Buffer {
  const h = Buffer.alloc(10)
  h.write('NK', 0, 'latin1'); h[2] = 1; h[3] = type; h.writeUInt32BE(seq, 4); h.writeUInt16BE(text.length + lie, 8)
  return Buffer.concat([h, Buffer.from(text, 'latin1')])
}

function setup(t: { after: (f: () => void) => void }) {
  const { dir, cleanup } = tempDir('netkit-plugin-')
  t.after(cleanup)
  writeFileSync(join(dir, 'nkp.js'), docExample())
  writeFileSync(join(dir, '.netkitrc.json'), JSON.stringify({ plugins: ['./nkp.js'] }))
  const pcap = join(dir, 'nkp.pcap')
  writeFileSync(pcap, Buffer.concat([pcapHeader(),
    pcapRecord(1, 0, udpFrame(nkp(1, 1, 'hi there'))),
    pcapRecord(2, 0, udpFrame(nkp(2, 2, 'some data'))),
    pcapRecord(3, 0, udpFrame(nkp(3, 3, 'bye', 50))), // length runs past the datagram
    pcapRecord(4, 0, udpFrame(Buffer.from('XXnot nkp at all'))),
  ]))
  return { dir, pcap }
}

test('the docs example plugin decodes NKP with its fields', async (t) => {
  const { dir, pcap } = setup(t)
  const r = await netkitIn(dir, ['read', '-r', pcap, '-T', 'fields', '-e', 'frame.number', '-e', 'nkp.type', '-e', 'nkp.seq', '-e', 'nkp.payload', '-e', 'frame.protocols'])
  assert.equal(r.stderr, '')
  assert.equal(r.stdout, [
    '1\t1\t1\thi there\teth:ethertype:ip:udp:nkp',
    '2\t2\t2\tsome data\teth:ethertype:ip:udp:nkp',
    '3\t3\t3\t\teth:ethertype:ip:udp:nkp',
    '4\t\t\t\teth:ethertype:ip:udp:nkp',
    '',
  ].join('\n'))
  const text = await netkitIn(dir, ['read', '-r', pcap])
  const lines = text.stdout.split('\n')
  assert.match(lines[0], /IP 10\.0\.0\.1\.5000 > 10\.0\.0\.2\.9999: UDP, length 18: NKP hello seq 1, 8 bytes$/)
  assert.match(lines[2], /\[Malformed Packet: nkp: payload length 53 runs past the datagram\]/)
  assert.match(lines[3], /\[Malformed Packet: nkp: bad magic/)
  const json = JSON.parse((await netkitIn(dir, ['read', '-r', pcap, '-T', 'ndjson', '-c', '1'])).stdout)
  assert.deepEqual(json.nkp, { 'nkp.version': 1, 'nkp.type': 1, 'nkp.seq': 1, 'nkp.length': 8, 'nkp.payload': 'hi there' })
  assert.equal(json.udp['udp.dstport'], 9999) // earlier layers keep their values
})

test("the docs' InfoLine version of the summary prints the same line", async (t) => {
  const { dir, pcap } = setup(t)
  const [plugin, infoLine] = docExamples()
  const old = /^ *if \(ctx\.wantsInfo\) ctx\.info\(.*$/m
  assert.match(plugin, old)
  writeFileSync(join(dir, 'nkp.js'), plugin.replace(old, infoLine.trimEnd()))
  const r = await netkitIn(dir, ['read', '-r', pcap])
  assert.equal(r.stderr, '')
  const lines = r.stdout.split('\n')
  assert.match(lines[0], /IP 10\.0\.0\.1\.5000 > 10\.0\.0\.2\.9999: UDP, length 18: NKP hello seq 1, 8 bytes$/)
  assert.match(lines[1], /: NKP data seq 2, 9 bytes$/)
})

test('netkit dissectors shows the plugin, its table and its fields', async (t) => {
  const { dir } = setup(t)
  const r = await netkitIn(dir, ['dissectors'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^nkp {2}NetKit Protocol {2}\[udp\.port=9999\]\n {4}from .*nkp\.js\n/m)
  assert.match(r.stdout, /nkp\.seq +uint +Sequence number/)
  const list = JSON.parse((await netkitIn(dir, ['dissectors', '--json'])).stdout) as Array<{ name: string; fields: Array<{ name: string }> }>
  const names = list.map((d) => d.name)
  for (const shipped of ['eth', 'ip', 'ipv6', 'tcp', 'udp', 'http', 'arp', 'icmp', 'icmpv6', 'nkp']) assert.ok(names.includes(shipped), shipped)
  assert.ok(list.find((d) => d.name === 'tcp')!.fields.some((f) => f.name === 'tcp.stream'))
})

test('a plugin that throws, or clashes, is reported; the others still load', async (t) => {
  const { dir, pcap } = setup(t)
  writeFileSync(join(dir, 'broken.js'), "throw new Error('boom at load time')\n")
  writeFileSync(join(dir, 'clash.js'), "import { defineDissector } from 'netkit'\nexport default defineDissector({ name: 'udp', fields: {}, dissect() {} })\n")
  writeFileSync(join(dir, 'nothing.js'), 'export default 42\n')
  writeFileSync(join(dir, '.netkitrc.json'), JSON.stringify({ plugins: ['./broken.js', './clash.js', './nothing.js', './nkp.js'] }))
  const r = await netkitIn(dir, ['read', '-r', pcap, '-T', 'fields', '-e', 'nkp.seq', '-e', 'udp.dstport'])
  assert.equal(r.code, 0)
  assert.equal(r.stdout, '1\t9999\n2\t9999\n3\t9999\n\t9999\n')
  const warnings = r.stderr.trim().split('\n')
  assert.equal(warnings.length, 3, r.stderr)
  assert.match(r.stderr, /broken\.js:1:7 failed to load: boom at load time/)
  assert.match(r.stderr, /clash\.js: a dissector named 'udp' is already loaded/)
  assert.match(r.stderr, /nothing\.js does not default-export a dissector/)
})

test('--config names the configuration from any folder', async (t) => {
  const { dir, pcap } = setup(t)
  const r = await netkit(['read', '-r', pcap, '--config', join(dir, '.netkitrc.json'), '-T', 'fields', '-e', 'nkp.payload', '-c', '1'])
  assert.equal(r.stdout, 'hi there\n')
})

test('a layer that fails half-way through its infoLine() leaves the line of the layers below', async (t) => {
  const { dir, cleanup } = tempDir('netkit-plugin-')
  t.after(cleanup)
  writeFileSync(join(dir, 'half.js'), `import { defineDissector } from 'netkit'
export default defineDissector({ name: 'half', fields: {}, register: [{ table: 'udp.port', key: 9999 }],
  dissect(view, ctx) { if (ctx.wantsInfo) ctx.infoLine(true).text(': HALF ').dec(view.u8(0)).text(' ').dec(view.u8(50)) } })
`)
  writeFileSync(join(dir, '.netkitrc.json'), JSON.stringify({ plugins: ['./half.js'] }))
  const pcap = join(dir, 'half.pcap')
  writeFileSync(pcap, Buffer.concat([pcapHeader(), pcapRecord(1, 0, udpFrame(Buffer.from('abc')))]))
  const r = await netkitIn(dir, ['read', '-r', pcap])
  assert.equal(r.stderr, '')
  assert.match(r.stdout, /IP 10\.0\.0\.1\.5000 > 10\.0\.0\.2\.9999: UDP, length 3 \[\|half\]\n$/)
})
