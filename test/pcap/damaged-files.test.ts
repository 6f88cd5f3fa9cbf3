// Damaged and hostile files: one clear line naming the file and the byte offset, exit 1, every
// whole packet before the damage still delivered (and written with -w), nothing hangs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { netkit, needs, tempDir } from '../helpers/cli.js'
import { block, epb, frame, idb, pcapHeader, pcapRecord, shb } from '../helpers/capture-builder.js'

const FIELDS = ['-T', 'fields', '-e', 'frame.number', '-e', 'frame.len']

/** Writes `bytes` to a temp file and runs `netkit read` on it. */
async function readBytes(t: { after: (f: () => void) => void }, bytes: Buffer, extra: string[] = FIELDS) {
  const { dir, cleanup } = tempDir()
  t.after(cleanup)
  const file = join(dir, 'damaged.pcap')
  writeFileSync(file, bytes)
  const r = await netkit(['read', '-r', file, ...extra], { timeoutMs: 20_000 })
  return { ...r, file, dir }
}

/** The single stderr line, checked to be one line naming the file and an offset. */
function oneLine(stderr: string, file: string, offset: number): string {
  const lines = stderr.split('\n').filter(Boolean)
  assert.equal(lines.length, 1, `expected one line, got: ${stderr}`)
  assert.ok(lines[0].startsWith('netkit read: ' + file + ': '), lines[0])
  assert.ok(lines[0].includes(`at byte offset ${offset}`), lines[0])
  assert.doesNotMatch(lines[0], /\bat .*\.js:\d+/) // no stack
  return lines[0]
}

const three = Buffer.concat([pcapHeader(), pcapRecord(1, 0, frame(1)), pcapRecord(2, 0, frame(2)), pcapRecord(3, 0, frame(3))])

test('empty file', async (t) => {
  const r = await readBytes(t, Buffer.alloc(0))
  assert.equal(r.code, 1)
  assert.match(oneLine(r.stderr, r.file, 0), /empty file/)
})

test('bad magic', async (t) => {
  const r = await readBytes(t, Buffer.from('this is not a capture file at all, just text\n'))
  assert.equal(r.code, 1)
  assert.match(oneLine(r.stderr, r.file, 0), /not a pcap or pcapng file/)
})

test('truncated pcap file header', async (t) => {
  const r = await readBytes(t, pcapHeader().subarray(0, 10))
  assert.equal(r.code, 1)
  assert.match(oneLine(r.stderr, r.file, 10), /truncated pcap file header: 10 of 24 bytes/)
})

test('file cut in the middle of a record: earlier packets delivered, and written with -w', async (t) => {
  const cut = three.subarray(0, three.length - 30)
  const r = await readBytes(t, cut)
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '1\t60\n2\t60\n')
  const third = 24 + 2 * 76
  assert.match(oneLine(r.stderr, r.file, third), /cut short in the middle of a record/)
  const out = join(r.dir, 'saved.pcap')
  const w = await netkit(['read', '-r', r.file, '-w', out])
  assert.equal(w.code, 1)
  const back = await netkit(['read', '-r', out, ...FIELDS])
  assert.equal(back.code, 0)
  assert.equal(back.stdout, '1\t60\n2\t60\n')
})

test('record claiming an absurd length: error at its offset, no huge allocation', async (t) => {
  const bad = Buffer.concat([pcapHeader(), pcapRecord(1, 0, frame(1)), pcapRecord(2, 0, Buffer.alloc(0), 60, 0xfffffff0)])
  const r = await readBytes(t, bad)
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '1\t60\n')
  assert.match(oneLine(r.stderr, r.file, 24 + 76), /claims 4294967280 captured bytes/)
})

test('record longer than the snaplen: a warning naming it, read like tshark does', { skip: needs('tshark') }, async (t) => {
  const f = Buffer.concat([pcapHeader(1, 40), pcapRecord(1, 0, frame(1)), pcapRecord(2, 0, frame(2))])
  const r = await readBytes(t, f)
  assert.equal(r.code, 0)
  const tshark = spawnSync('tshark', ['-r', r.file, ...FIELDS], { encoding: 'utf8' })
  assert.equal(r.stdout, tshark.stdout)
  assert.match(r.stderr, /^netkit read: warning: .*record 1 at byte offset 24 has 60 captured bytes, more than the file's snaplen of 40/)
})

const ngThree = Buffer.concat([shb(), idb(1, 0), epb(0, 1000000n, frame(1)), epb(0, 2000000n, frame(2)), epb(0, 3000000n, frame(3))])

test('pcapng: unknown block types are skipped (as tshark does)', { skip: needs('tshark') }, async (t) => {
  const unknown = block(0x12345678, Buffer.from('from the future!'))
  const f = Buffer.concat([shb(), idb(1, 0), epb(0, 1000000n, frame(1)), unknown, epb(0, 2000000n, frame(2))])
  const r = await readBytes(t, f)
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, spawnSync('tshark', ['-r', r.file, ...FIELDS], { encoding: 'utf8' }).stdout)
  assert.equal(r.stdout, '1\t60\n2\t60\n')
})

test('pcapng: corrupt block length stops with the offset, earlier packets kept', async (t) => {
  const f = Buffer.from(ngThree)
  const second = shb().length + idb(1, 0).length + epb(0, 0n, frame(1)).length
  f.writeUInt32LE(13, second + 4) // not a multiple of 4
  const r = await readBytes(t, f)
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '1\t60\n')
  assert.match(oneLine(r.stderr, r.file, second + 4), /corrupt pcapng block length 13/)
})

test('pcapng: huge block length is refused, not allocated', async (t) => {
  const f = Buffer.from(ngThree)
  const second = shb().length + idb(1, 0).length + epb(0, 0n, frame(1)).length
  f.writeUInt32LE(0x7ffffff0, second + 4)
  const r = await readBytes(t, f)
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '1\t60\n')
  assert.match(oneLine(r.stderr, r.file, second + 4), /corrupt pcapng block length/)
})

test('pcapng: trailing length mismatch and captured length past the block', async (t) => {
  const f = Buffer.from(ngThree)
  const second = shb().length + idb(1, 0).length + epb(0, 0n, frame(1)).length
  f.writeUInt32LE(999, second + 20) // EPB captured length larger than the block
  const r = await readBytes(t, f)
  assert.equal(r.code, 1)
  assert.match(oneLine(r.stderr, r.file, second + 20), /captured length 999 exceeds the block/)
  const g = Buffer.from(ngThree)
  const total = g.readUInt32LE(second + 4)
  g.writeUInt32LE(total + 4, second + total - 4)
  const r2 = await readBytes(t, g)
  assert.equal(r2.code, 1)
  assert.equal(r2.stdout, '1\t60\n')
  assert.match(oneLine(r2.stderr, r2.file, second + total - 4), /trailing length/)
})

test('pcapng: file cut inside a block', async (t) => {
  const r = await readBytes(t, ngThree.subarray(0, ngThree.length - 10))
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '1\t60\n2\t60\n')
  assert.match(r.stderr, /cut short in the middle of a block/)
})

test('pcapng: packet naming an interface that does not exist', async (t) => {
  const f = Buffer.concat([shb(), idb(1, 0), epb(0, 1n, frame(1)), epb(7, 2n, frame(2))])
  const r = await readBytes(t, f)
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '1\t60\n')
  assert.match(r.stderr, /names interface 7, but the section has 1/)
})

test('every prefix of a real file reads without a crash or a hang', async (t) => {
  // A cheap fuzz: cut a real multi-packet file at many lengths; each run ends with exit 0 or
  // one clean error line, and never prints more packets than the whole file has.
  const { dir, cleanup } = tempDir()
  t.after(cleanup)
  const whole = readFileSync(new URL('../../../shared/corpus/pcapng/output_le/difficult/test202.pcapng', import.meta.url))
  for (const len of [1, 3, 4, 11, 12, 27, 28, 100, 200, 333, 512, whole.length - 4, whole.length - 1]) {
    if (len >= whole.length) continue
    const file = join(dir, `cut-${len}`)
    writeFileSync(file, whole.subarray(0, len))
    const r = await netkit(['read', '-r', file, ...FIELDS])
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code} at ${len}`)
    if (r.code === 1) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.ok(r.stdout.split('\n').filter(Boolean).length <= 11)
  }
})
