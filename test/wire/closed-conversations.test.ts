/**
 * plugins/tcp forgets a closed conversation 60 s (capture time) after its last packet, so a
 * read's memory follows the live connections. What tshark shows must not change: real traffic
 * recorded on loopback, a connection from one client port, then, two minutes later in the
 * capture (the second recording's times shifted with editcap), 500 more connections (enough
 * segments for the table's sweeps to run) and a last one from the same client port again, which
 * tshark marks as reusing the ports of the first. tcp.stream, sequence numbers, the analysis
 * flags and the HTTP fields equal tshark's on every packet, and the -T text lines (whose relative
 * sequence numbers come from a table of tcpdump's own, forgotten the same way) tcpdump's.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { join } from 'node:path'
import { needs, netkit, run, sh, tempDir, tsharkEphemeralPortArgs, tsharkFields } from '../helpers/cli.js'
import { freePort, recordWithTcpdump } from '../helpers/servers.js'
import { compareWithTshark } from './field-compare.js'

const FIELDS = ['frame.number', 'tcp.stream', 'tcp.seq', 'tcp.ack', 'tcp.analysis.flags', 'tcp.analysis.reused_ports',
  'tcp.analysis.retransmission', 'http.request.uri', 'http.response.code']

function skipReason(): string | false {
  if (process.platform !== 'linux') return `records loopback traffic with tcpdump, on Linux (this is ${process.platform})`
  if (process.getuid?.() !== 0) return 'needs root for tcpdump on lo'
  return needs('tcpdump', 'tshark', 'editcap', 'mergecap')
}

/** One request on a connection of its own (the server closes it first), from `localPort` if given. */
function get(port: number, path: string, localPort?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false, localPort }, (res) => { res.resume(); res.on('end', resolve) }).on('error', reject)
  })
}

test('closed conversations forgotten after 60 s of capture time: the fields still equal tshark, port reuse included', { skip: skipReason(), timeout: 120_000 }, async (t) => {
  const { dir, cleanup } = tempDir()
  t.after(cleanup)
  const server = http.createServer((req, res) => { req.resume(); res.end(`you asked for ${req.url}\n`) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const port = (server.address() as { port: number }).port
  const clientPort = await freePort()
  const first = join(dir, 'first.pcap'), later = join(dir, 'later.pcap')
  await recordWithTcpdump(first, `tcp port ${port}`, () => get(port, '/first', clientPort))
  await recordWithTcpdump(later, `tcp port ${port}`, async () => {
    for (let i = 0; i < 500; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => get(port, `/n${i + k}`)))
    await get(port, '/again', clientPort)
  })
  const shifted = join(dir, 'shifted.pcap'), file = join(dir, 'all.pcap')
  sh('editcap', ['-t', '120', later, shifted])
  sh('mergecap', ['-a', '-F', 'pcap', '-w', file, first, shifted])

  // (The kernel may also give two of the 500 connections one ephemeral port: tshark marks those
  // too, and the comparison below covers them.)
  const reused = tsharkFields(file, ['frame.number'], ['-Y', `tcp.analysis.reused_ports && tcp.srcport == ${clientPort}`]).trim().split('\n').filter(Boolean)
  assert.equal(reused.length, 1, `tshark marks the last connection's SYN as reusing the first one's ports (got ${reused.length} such frames)`)
  // 500 client ports: some may land on a port tshark gives another protocol (pmproxy's 44322).
  const r = await compareWithTshark(file, FIELDS, tsharkEphemeralPortArgs())
  assert.ok(r.total > 5000 * FIELDS.length / 2, `${r.total} values compared`)
  assert.deepEqual(r.mismatches, [], `${r.agree}/${r.total} values equal`)

  // What follows the length is the application layer, which each tool decodes its own way.
  const tcpLines = (text: string) => text.split('\n').filter((l) => l.includes(': Flags [')).map((l) => l.replace(/(, length \d+).*$/, '$1'))
  const want = tcpLines((await run('tcpdump', ['-n', '-r', file])).stdout)
  const got = await netkit(['read', '-r', file])
  assert.equal(got.code, 0, got.stderr)
  assert.ok(want.length > 5000, `tcpdump printed ${want.length} TCP lines`)
  assert.deepEqual(tcpLines(got.stdout), want)
})
