// docs/plugins.md covers the whole plugin API (every context member, definition key and field
// key in src/dissect/api.ts and field-types.ts), and its examples beyond the NKP one (which
// test/dissect/plugins.test.ts runs) load, pass --check and decode what they say they decode.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { netkit, root, tempDir } from '../helpers/cli.js'
import { pcapHeader, pcapRecord } from '../helpers/capture-builder.js'
import { A, B, F, tcpFrame } from '../helpers/tcp-frames.js'

/**
 * The test's configuration named with --config: run as root (as CI runs), netkit loads no
 * configuration it finds in the working folder; a user's own run finds it there.
 */
const cfg = (dir: string): string[] => ['--config', join(dir, '.netkitrc.json')]

const doc = readFileSync(join(root, 'docs', 'plugins.md'), 'utf8')

/** The members of `interface NAME { ... }` in a source file. */
function members(file: string, name: string): string[] {
  const src = readFileSync(join(root, 'src', 'dissect', file), 'utf8')
  const body = new RegExp(`export interface ${name}\\b[^{]*\\{([\\s\\S]*?)\\n\\}`).exec(src)![1]
  return [...body.matchAll(/^ {2}(?:readonly )?(\w+)[?(<:]/gm)].map((m) => m[1])
}

test('docs/plugins.md covers every context member, definition key and field key', () => {
  const ctx = members('api.ts', 'DissectContext')
  assert.ok(ctx.length >= 25, `read ${ctx.length} members`)
  assert.deepEqual(ctx.filter((m) => !doc.includes(`ctx.${m}`)), [], 'context members the doc does not name')
  // The first cells of the doc's tables: `name`, `heuristic` + `recognize(view)`, ...
  const cells = doc.split('\n').filter((l) => l.startsWith('| `')).map((l) => l.split(' | ')[0])
  const inTable = (k: string): boolean => cells.some((c) => c.includes(`\`${k}\``) || c.includes(`\`${k}(`))
  assert.deepEqual(members('api.ts', 'DissectorDefinition').filter((k) => !inTable(k)), [], 'definition keys missing from the table')
  assert.deepEqual(members('field-types.ts', 'FieldSpec').filter((k) => !inTable(k)), [], 'field keys missing from the table')
})

/** The ```js block of the doc that defines dissector `name`. */
function example(name: string): string {
  const block = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes(`name: '${name}'`))
  assert.ok(block, `docs/plugins.md has the ${name} example`)
  return block
}

function udpFrame(dport: number, payload: Buffer): Buffer {
  const f = Buffer.alloc(42 + payload.length)
  f.write('0200000000020200000000010800', 0, 'hex')
  f[14] = 0x45; f.writeUInt16BE(28 + payload.length, 16); f[22] = 64; f[23] = 17
  f.set([10, 0, 0, 1, 10, 0, 0, 2], 26)
  f.writeUInt16BE(40000, 34); f.writeUInt16BE(dport, 36); f.writeUInt16BE(8 + payload.length, 38)
  payload.copy(f, 42)
  return f
}

test('the dissectPdus and bitmask/values/preferences examples do what the doc says', async (t) => {
  const { dir, cleanup } = tempDir('netkit-docs-')
  t.after(cleanup)
  writeFileSync(join(dir, 'nkpt.js'), example('nkpt'))
  writeFileSync(join(dir, 'nkb.js'), example('nkb'))
  writeFileSync(join(dir, '.netkitrc.json'), JSON.stringify({ plugins: ['./nkpt.js', './nkb.js'] }))
  // dissectPdus must not throw on short or arbitrary views (--check runs it on them).
  const check = await netkit(['dissectors', '--check', './nkpt.js'], { cwd: dir })
  assert.equal(check.code, 0, check.stdout + check.stderr)
  // NKPT: two messages in one segment, then one split over two segments.
  const msg = (type: number, body: string) => Buffer.concat([Buffer.from([0x4e, type, 0, body.length]), Buffer.from(body)])
  const split = msg(2, 'split')
  const first = Buffer.concat([msg(1, 'hi'), msg(2, 'data')])
  const tcp = join(dir, 'nkpt.pcap')
  writeFileSync(tcp, Buffer.concat([pcapHeader(),
    pcapRecord(1, 0, tcpFrame(A, B, 40000, 9998, 1000, 1, F.PA, first)),
    pcapRecord(2, 0, tcpFrame(A, B, 40000, 9998, 1000 + first.length, 1, F.PA, split.subarray(0, 3))),
    pcapRecord(3, 0, tcpFrame(A, B, 40000, 9998, 1003 + first.length, 1, F.PA, split.subarray(3))),
  ]))
  const r = await netkit(['read', ...cfg(dir), '-r', tcp, '-T', 'fields', '-e', 'frame.number', '-e', 'nkpt.type', '-e', 'nkpt.body'], { cwd: dir })
  assert.equal(r.stderr, '')
  assert.equal(r.stdout, '1\t1,2\thi,data\n2\t\t\n3\t2\tsplit\n')
  // NKB: version nibble and flag bit, the type's name, the port preference.
  const udp = join(dir, 'nkb.pcap')
  writeFileSync(udp, Buffer.concat([pcapHeader(), pcapRecord(1, 0, udpFrame(9997, Buffer.from([0x11, 2]))), pcapRecord(2, 0, udpFrame(5000, Buffer.from([0x10, 3])))]))
  const v = await netkit(['read', ...cfg(dir), '-r', udp, '-T', 'verbose', '-Y', 'nkb.type == data'], { cwd: dir })
  assert.match(v.stdout, /^ {4}0001 \.\.\.\. = Version: 1\n {4}\.\.\.\. \.\.\.1 = Acknowledged: 1\n {4}Type: data \(2\)$/m)
  assert.equal([...v.stdout.matchAll(/^Frame /gm)].length, 1)
  const o = await netkit(['read', ...cfg(dir), '-r', udp, '-o', 'nkb.port:5000', '-T', 'fields', '-e', 'frame.number', '-e', 'nkb.type', '-e', 'nkb.flags.ack'], { cwd: dir })
  assert.equal(o.stdout, '1\t\t\n2\t3\t0\n')
})
