// DHCP on real traffic: busybox udhcpc in a namespace gets a lease from dnsmasq in the other
// (discover, offer, request, ack, with hostname, vendor class, client id, parameter list, lease
// times, router and DNS server options), twice. Every dhcp.* field netkit declares equals
// tshark's on every frame (and on the corpus files with DHCP), the text lines equal tcpdump -n's,
// and damaged copies of the capture decode without a bug.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { corpus, needs, sh, tempDir } from '../helpers/cli.js'
import { assertFieldsEqual, assertSurvivesDamage, captureSkip, captureTraffic, pluginFields, textLines } from './app-capture.js'

const skip = captureSkip() || needs('dnsmasq', 'busybox', 'tcpdump', 'tshark', 'mergecap')
const { dir, cleanup } = tempDir('netkit-dhcp-')
const file = join(dir, 'dhcp.pcap')
/** Corpus files with DHCP (one cut short by its snap length). */
const CORPUS = ['basic/test001.pcapng', 'basic/test012.pcapng', 'difficult/test202.pcapng'].map((n) => join(corpus, 'pcapng', 'output_le', n))

test('udhcpc gets a lease from dnsmasq across namespaces: capture', { skip }, async () => {
  await captureTraffic(file, async (pair) => {
    const net = pair.addr.replace(/\.1$/, '')
    const server = pair.spawn(pair.ns, 'dnsmasq', ['-k', '-C', '/dev/null', '--port=0', `--interface=${pair.iface}`, '--bind-interfaces',
      '--pid-file=', `--dhcp-leasefile=${join(dir, 'leases')}`, '--no-ping', `--dhcp-range=${net}.50,${net}.60,255.255.255.0,1h`,
      `--dhcp-option=option:router,${pair.addr}`, `--dhcp-option=option:dns-server,${pair.addr}`, '--domain=test'])
    try {
      await sleep(300)
      const client = (...extra: string[]): string => pair.exec(pair.peerNs, 'busybox', ['udhcpc', '-i', pair.peerIface, '-n', '-q', '-f', '-s', '/bin/true', '-t', '5', '-T', '1', ...extra])
      client('-x', 'hostname:peerhost', '-V', 'nktest')
      client('-C')
    } finally {
      server.kill()
    }
  })
})

test('every dhcp.* field equals tshark on the capture and on the corpus', { skip }, async () => {
  const all = join(dir, 'all.pcapng')
  sh('mergecap', ['-a', '-w', all, file, ...CORPUS])
  // frame.protocols is left out: records of these pcapng files that are not packets show as
  // `data` in tshark, which is the pcapng reader's business, not DHCP's.
  const compared = await assertFieldsEqual(all, await pluginFields('dhcp'))
  assert.ok(compared > 300, `compared ${compared} fields`)
})

test('DHCP lines of -T text equal tcpdump -n', { skip }, async () => {
  const lines = await textLines(file, (l) => l.includes('BOOTP/DHCP'))
  assert.ok(lines.tcpdump.length >= 8, `${lines.tcpdump.length} lines`)
  assert.ok(lines.tcpdump.some((l) => l.includes('Request from')) && lines.tcpdump.some((l) => l.includes(', Reply, ')))
  assert.deepEqual(lines.netkit, lines.tcpdump)
  const cut = await textLines(CORPUS[1], (l) => l.includes('BOOTP/DHCP'))
  assert.deepEqual(cut.netkit.map((l) => l.replace(/^\S+ /, '')), cut.tcpdump.map((l) => l.replace(/^\S+ /, '')))
})

test('truncated and bit-flipped copies of the capture decode without a dissector bug', { skip }, async () => {
  const seen = await assertSurvivesDamage(file, ['dhcp'], 10)
  assert.ok(seen > 50, `${seen} DHCP layers`)
})

test('cleanup', () => cleanup())
