// -T text is tcpdump's line format: on real captures, every TCP line netkit prints equals
// `tcpdump -n -r`'s up to the length (flags in tcpdump's order, sequence numbers relative to
// each connection as tcpdump counts them, window, urgent pointer, options). What follows the
// length is the application layer, which each tool decodes in its own way.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { corpus, netkit, needs, run } from '../helpers/cli.js'

const FILES = ['dns_tcp.pcap', 'print-flags.pcap', 'ssh.pcap', 'tcp-handshake-nano.pcap', 'tcp_eight_lowest_weight_flags_set.pcap',
  'tcp_rst_data.pcap', 'unaligned-nfs-1.pcap', 'gso-ipv4.pcap', 'ipv4_tcp_http_xml.pcap']

const tcpLines = (text: string): string[] => text.split('\n').filter((l) => l.includes(': Flags [')).map((l) => l.replace(/(, length \d+).*$/, '$1'))

test('TCP lines of -T text equal tcpdump -n -r on real captures', { skip: needs('tcpdump') }, async () => {
  let compared = 0
  for (const name of FILES) {
    const file = join(corpus, 'tcpdump', name)
    const ref = await run('tcpdump', ['-n', '-r', file])
    const got = await netkit(['read', '-r', file])
    assert.equal(got.code, 0, got.stderr)
    const want = tcpLines(ref.stdout)
    assert.ok(want.length > 0, `${name}: tcpdump printed no TCP line`)
    assert.deepEqual(tcpLines(got.stdout), want, name)
    compared += want.length
  }
  assert.ok(compared >= 80, `compared ${compared} lines`)
})

test('a microsecond fraction out of range prints in full, as tcpdump prints it', { skip: needs('tcpdump') }, async () => {
  // Record 2 of this file says 1000000 µs. (Record 3 says 2^31 µs: netkit keeps nanoseconds in
  // 32 bits and wraps it to 0 as tshark does, where tcpdump prints .2147483648.)
  const file = join(corpus, 'tcpdump', 'timestamp_invalid_micro.pcap')
  const ref = (await run('tcpdump', ['-n', '-r', file])).stdout.split('\n')
  const got = (await netkit(['read', '-r', file])).stdout.split('\n')
  assert.match(ref[1], /^\d\d:\d\d:\d\d\.1000000 /)
  assert.deepEqual(got.slice(0, 2), ref.slice(0, 2))
})
