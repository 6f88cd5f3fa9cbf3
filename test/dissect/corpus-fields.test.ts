// Field values equal tshark's on every corpus file, for the Ethernet/IPv4/IPv6/TCP/UDP fields
// of ../shared/tools/compare-fields.py's default list and more; every file reads in every
// format without a crash, and damaged layers are marked while earlier layers keep their values.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join, relative } from 'node:path'
import { corpus, netkit, needs, run } from '../helpers/cli.js'
import { corpusFiles } from '../helpers/corpus.js'
import { tsharkCorpus, tsharkLines } from '../helpers/tshark-corpus.js'
import { Writable } from 'node:stream'
import { validateConfig } from '../../src/config.js'
import { loadDissectors } from '../../src/dissect/plugin-loader.js'
import { NetkitError } from '../../src/errors.js'
import { PacketPrinter } from '../../src/format/packet-printer.js'
import { TextOutput } from '../../src/format/output.js'
import { openCaptureFile } from '../../src/pcap/file-reader.js'
import { RecordKind } from '../../src/pcap/record-batch.js'
import { DissectionEngine } from '../../src/dissect/engine.js'

const FIELDS = [
  'frame.number', 'frame.len', 'frame.cap_len', 'eth.src', 'eth.dst', 'eth.type',
  'ip.version', 'ip.hdr_len', 'ip.len', 'ip.id', 'ip.flags.df', 'ip.flags.mf', 'ip.frag_offset', 'ip.ttl', 'ip.proto', 'ip.src', 'ip.dst', 'ip.checksum', 'ip.dsfield',
  'ipv6.src', 'ipv6.dst', 'ipv6.nxt', 'ipv6.plen', 'ipv6.hlim',
  'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.hdr_len', 'tcp.flags', 'tcp.window_size_value', 'tcp.len', 'tcp.stream', 'tcp.seq', 'tcp.ack', 'tcp.checksum',
  'udp.srcport', 'udp.dstport', 'udp.length', 'udp.checksum', 'vlan.id', 'arp.opcode', 'icmp.type', 'icmpv6.type', 'sll.pkttype',
]
// Files whose packets sit inside protocols netkit does not decode as tshark does; each with why.
const files = corpusFiles('tcpdump')

test('field values equal tshark on every tcpdump corpus file', { skip: needs('tshark'), concurrency: 3 }, async (t) => {
  const args = FIELDS.flatMap((f) => ['-e', f])
  await Promise.all(files.map((file) => t.test(relative(corpus, file), async () => {
    const ref = await tsharkCorpus(file)
    const got = await netkit(['read', '-r', file, '-T', 'fields', ...args])
    if (ref.code !== 0) { assert.notEqual(got.code, 0); return }
    assert.equal(got.code, 0, got.stderr)
    const a = tsharkLines(ref, FIELDS)
    const b = got.stdout.split('\n').slice(0, -1)
    assert.equal(b.length, a.length)
    for (let i = 0; i < a.length; i++) {
      if (a[i] === b[i]) continue
      const ra = a[i].split('\t')
      const rb = b[i].split('\t')
      const diffs = FIELDS.map((f, k) => (ra[k] === rb[k] ? '' : `${f}: tshark=${ra[k]} netkit=${rb[k]}`)).filter(Boolean)
      assert.fail(`frame ${i + 1}: ${diffs.join('; ')}`)
    }
  })))
})

test('frame.protocols equals tshark where netkit knows every layer', { skip: needs('tshark') }, async () => {
  for (const name of ['dns_tcp.pcap', 'mptcp-v0.pcap', 'tcp-handshake-nano.pcap', 'icmpv6.pcap', 'ipv6-routing-header.pcap', '802.1ad_QinQ.pcap', 'LINKTYPE_RAW_ipv4.pcap', 'print-flags.pcap']) {
    const file = join(corpus, 'tcpdump', name)
    const ref = await run('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.protocols'])
    const got = await netkit(['read', '-r', file, '-T', 'fields', '-e', 'frame.protocols'])
    // Above TCP/UDP, tshark knows protocols netkit leaves as data (dns, ssh): compare up to there.
    const cut = (s: string) => s.split('\n').map((l) => l.replace(/:(dns|ssh|syslog|data|mptcp)(:.*)?$/, ''))
    assert.deepEqual(cut(got.stdout), cut(ref.stdout), name)
  }
})

test('every corpus file reads in every format without a crash', async () => {
  // In-process, through the reader, engine and printer `netkit read` uses (a process per file
  // and format would spend minutes starting Node); damaged files may end in a NetkitError only.
  const { registry } = await loadDissectors(validateConfig({}))
  for (const format of ['text', 'verbose', 'ndjson', 'fields'] as const) {
    for (const file of corpusFiles()) {
      let text = ''
      const sink = new Writable({ write(chunk, _enc, done) { text += chunk; done() } })
      const out = new TextOutput(sink)
      const printer = new PacketPrinter(out, { format, fields: format === 'fields' ? ['frame.number', 'frame.protocols', 'ip.src', 'tcp.stream', 'http.request.uri'] : undefined, hex: format === 'text' }, registry)
      try {
        const reader = await openCaptureFile(file)
        try {
          const engine = printer.needs && new DissectionEngine(registry, printer.needs)
          for await (const batch of reader.batches()) {
            for (let i = 0; i < batch.count; i++) printer.print(batch, i, engine && batch.kind[i] === RecordKind.packet ? engine.dissect(batch, i) : undefined)
          }
        } finally {
          await reader.close()
        }
      } catch (err) {
        assert.ok(err instanceof NetkitError, `${relative(corpus, file)} -T ${format}: ${(err as Error).stack}`)
      }
      await out.end()
      if (format === 'ndjson') for (const line of text.split('\n').filter(Boolean)) JSON.parse(line)
    }
  }
  // And the command itself, once per format, on a damaged file: exit 1, one line, no trace.
  for (const format of ['text', 'verbose', 'ndjson']) {
    const r = await netkit(['read', '-r', join(corpus, 'tcpdump', 'tcp_header_heapoverflow.pcap'), '-T', format])
    assert.ok(r.code === 0 || r.code === 1, `-T ${format}: exit ${r.code}`)
    assert.doesNotMatch(r.stderr, /internal error|TypeError|RangeError|\n\s+at /, `-T ${format}`)
  }
})

test('broken layers are marked; the layers before them keep their values', async () => {
  const file = (n: string) => join(corpus, 'tcpdump', n)
  const hdr = await netkit(['read', '-r', file('ipv4_invalid_hdr_length.pcap'), '-T', 'ndjson'])
  const pkt = JSON.parse(hdr.stdout.split('\n')[0])
  assert.equal(pkt.ip._status, 'malformed')
  assert.match(pkt.ip._reason, /header length/)
  assert.match(pkt.eth['eth.src'], /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/)
  const text = await netkit(['read', '-r', file('ipv4_invalid_hdr_length.pcap')])
  assert.match(text.stdout, /\[Malformed Packet: ip: bogus IP header length/)
  // A capture cut inside the TCP header: tcp is truncated, ip keeps its addresses.
  const trunc = await netkit(['read', '-r', file('tcp_rst_data-trunc.pcap'), '-T', 'ndjson'])
  const p2 = JSON.parse(trunc.stdout.split('\n')[0])
  assert.ok(p2.ip['ip.src'])
  const statuses = Object.values(p2).map((l) => (l as { _status?: string })._status).filter(Boolean)
  assert.ok(statuses.length <= 1)
})
