// TextOutput's byte chunks: reused once written, never while the stream still holds them, and
// bounded in number when the stream takes its time (a full pipe), so output memory stays flat.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { TextOutput } from '../../src/format/output.js'

/**
 * A sink that finishes each write only after `delay` event-loop turns, as a full pipe does, and
 * checks at that point that the bytes it was handed did not change while it held them.
 */
function slowSink(delay: number): { stream: Writable; text: () => string; buffers: Set<ArrayBufferLike>; changed: () => number } {
  const parts: Buffer[] = []
  const buffers = new Set<ArrayBufferLike>()
  let changed = 0
  const stream = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      buffers.add(chunk.buffer)
      const copy = Buffer.from(chunk)
      parts.push(copy)
      let turns = delay
      const later = () => {
        if (--turns > 0) return void setImmediate(later)
        if (!copy.equals(chunk)) changed++
        cb()
      }
      setImmediate(later)
    },
  })
  return { stream, text: () => Buffer.concat(parts).toString('latin1'), buffers, changed: () => changed }
}

/** Writes `lines` numbered lines through the byte interface, waiting for ready() every `per`. */
async function produce(out: TextOutput, lines: number, per: number): Promise<string> {
  let expected = ''
  for (let i = 0; i < lines; i++) {
    const line = `line ${i} ${'x'.repeat(i % 97)}\n`
    expected += line
    const src = Buffer.from(line, 'latin1')
    out.writeBytes(src, 0, src.length)
    if (i % per === per - 1) await out.ready()
  }
  await out.end()
  return expected
}

test('a stream that holds chunks: output intact, no chunk changed while held, chunks reused', async () => {
  const sink = slowSink(3)
  const out = new TextOutput(sink.stream, 4096)
  const expected = await produce(out, 20_000, 200)
  assert.equal(sink.text(), expected)
  assert.equal(sink.changed(), 0, 'a chunk was written into while the stream still held it')
  const chunks = Math.ceil(expected.length / 4096)
  assert.ok(chunks > 200, `the test writes many chunks (${chunks})`)
  // In flight at once: what one batch of 200 lines makes (about 4 chunks), plus the pool's 16.
  assert.ok(sink.buffers.size <= 24, `${sink.buffers.size} distinct chunks for ${chunks} written`)
})

test('a stream that takes each chunk at once: one chunk serves the whole output', async () => {
  const parts: Buffer[] = []
  const buffers = new Set<ArrayBufferLike>()
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buffers.add(chunk.buffer)
      parts.push(Buffer.from(chunk))
      cb()
    },
  })
  const out = new TextOutput(stream, 4096)
  const expected = await produce(out, 5_000, 50)
  assert.equal(Buffer.concat(parts).toString('latin1'), expected)
  assert.ok(buffers.size <= 2, `${buffers.size} distinct chunks`)
})

test('a write that fails with EPIPE ends the output quietly, part-way through', async () => {
  let calls = 0
  const stream = new Writable({
    write(_chunk: Buffer, _enc, cb) {
      calls++
      setImmediate(() => cb(calls === 2 ? Object.assign(new Error('broken pipe'), { code: 'EPIPE' }) : null))
    },
  })
  const out = new TextOutput(stream, 1024)
  await produce(out, 400, 40)
  assert.ok(out.closed, 'EPIPE ends the output quietly')
})
