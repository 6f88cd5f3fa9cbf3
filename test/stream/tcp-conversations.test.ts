// tcp.stream numbering equals tshark's: the conversation table fed with the TCP header values
// tshark itself decodes (so this checks the numbering rules alone, on the whole corpus and on
// hand-made port-reuse cases).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { TcpConversations } from '../../src/stream/tcp-conversations.js'
import { corpus, needs, run, tempDir } from '../helpers/cli.js'
import { corpusFiles } from '../helpers/corpus.js'
import { pcapHeader, pcapRecord } from '../helpers/capture-builder.js'
import { streamScenarios } from '../helpers/tcp-frames.js'

const FIELDS = ['frame.number', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.flags', 'tcp.stream']

/** Runs the table over tshark's decode of `file` and returns [tshark's, ours] stream columns. */
async function compare(file: string): Promise<[string[], string[]]> {
  const r = await run('tshark', ['-n', '-r', file, '-T', 'fields', '-E', 'occurrence=f', ...FIELDS.flatMap((f) => ['-e', f])])
  const table = new TcpConversations()
  const want: string[] = []
  const got: string[] = []
  for (const line of r.stdout.split('\n')) {
    if (!line) continue
    const [frame, ip4s, ip4d, ip6s, ip6d, sport, dport, seq, ack, flags, stream] = line.split('\t')
    if (stream === '' || sport === '') continue
    const src = ip6s || ip4s
    const dst = ip6d || ip4d
    const place = table.lookup(src, () => src, Number(sport), dst, () => dst, Number(dport), Number(seq), Number(ack), Number(flags), Number(frame), 0, 0, 0, 0)
    want.push(`${frame}:${stream}`)
    got.push(`${frame}:${place.conversation.index}`)
  }
  return [want, got]
}

test('tcp.stream numbering equals tshark on every corpus file', { skip: needs('tshark'), concurrency: 3 }, async (t) => {
  await Promise.all(corpusFiles().map((file) => t.test(relative(corpus, file), async () => {
    const [want, got] = await compare(file)
    assert.deepEqual(got, want)
  })))
})

test('tcp.stream numbering equals tshark on port-reuse scenarios', { skip: needs('tshark') }, async (t) => {
  const { dir, cleanup } = tempDir()
  t.after(cleanup)
  for (const [name, frames] of Object.entries(streamScenarios)) {
    const file = join(dir, `${name}.pcap`)
    writeFileSync(file, Buffer.concat([pcapHeader(), ...frames.map((f, i) => pcapRecord(1000 + i, 0, f))]))
    const [want, got] = await compare(file)
    assert.ok(want.length === frames.length, `${name}: tshark decoded ${want.length} of ${frames.length}`)
    assert.deepEqual(got, want, name)
  }
})
