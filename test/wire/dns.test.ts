// DNS, mDNS and LLMNR on real traffic: dig asks dnsmasq (authoritative for a zone with A, AAAA,
// CNAME, MX, TXT, SRV, PTR, SOA, NS and an HTTPS record) in a network namespace, over UDP and
// TCP, with and without EDNS, for names that exist and one that does not; the same server also
// answers on the mDNS and LLMNR ports. Every dns.* field netkit declares equals tshark's on every
// frame, the text lines equal tcpdump -n's, and damaged copies of the capture decode without a bug.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ChildProcess } from 'node:child_process'
import { corpus, needs, sh, tempDir } from '../helpers/cli.js'
import { assertFieldsEqual, assertSurvivesDamage, captureSkip, captureTraffic, pluginFields, textLines } from './app-capture.js'

const skip = captureSkip() || needs('dnsmasq', 'dig', 'tcpdump', 'tshark', 'mergecap')
const { dir, cleanup } = tempDir('netkit-dns-')
const file = join(dir, 'dns.pcap')

/** An HTTPS record (RFC 9460): priority 1, target ".", alpn h2, port 443, ipv4hint 10.1.2.3. */
const HTTPS_RDATA = '000100000100030268320003000201bb000400040a010203'

test('dig against dnsmasq in a namespace: capture', { skip }, async () => {
  await captureTraffic(file, async (pair) => {
    const servers: ChildProcess[] = []
    try {
      for (const port of [53, 5353, 5355]) {
        servers.push(pair.spawn(pair.ns, 'dnsmasq', ['-k', '-C', '/dev/null', '--no-resolv', '--no-hosts', `--port=${port}`,
          `--listen-address=${pair.addr}`, '--bind-interfaces', '--pid-file=', `--auth-server=ns.test,${pair.iface}`,
          '--auth-zone=test,10.1.2.0/24', '--host-record=host.test,10.1.2.4,fd00::4', '--mx-host=test,mail.test,10',
          '--txt-record=txt.test,"hello world","second"', '--srv-host=_http._tcp.test,host.test,80,1,2',
          '--srv-host=_sip._udp.sub.test,host.test,5060,3,4', '--cname=alias.test,host.test', `--dns-rr=https.test,65,${HTTPS_RDATA}`]))
      }
      await sleep(300)
      const dig = (...args: string[]): string => pair.exec(pair.peerNs, 'dig', [`@${pair.addr}`, '+tries=3', '+time=2', ...args])
      assert.match(dig('host.test', 'A'), /10\.1\.2\.4/)
      dig('host.test', 'AAAA')
      dig('alias.test')
      dig('test', 'MX')
      dig('txt.test', 'TXT')
      dig('_http._tcp.test', 'SRV')
      dig('_sip._udp.sub.test', 'SRV')
      assert.match(dig('-x', '10.1.2.4'), /host\.test/)
      assert.match(dig('nx.test'), /NXDOMAIN/)
      dig('+tcp', 'test', 'MX')
      dig('+tcp', 'host.test')
      dig('+noedns', 'host.test')
      dig('test', 'SOA')
      dig('.', 'NS')
      dig('+subnet=10.9.0.0/16', 'host.test')
      dig('+nsid', '+padding=64', 'host.test')
      dig('https.test', 'TYPE65')
      dig('+dnssec', '+nocookie', 'txt.test', 'TXT')
      dig('-p', '5353', 'host.test')
      dig('-p', '5355', 'host.test')
      dig('-p', '5353', '+tcp', 'txt.test', 'TXT')
    } finally {
      for (const s of servers) s.kill()
    }
  })
})

test('every dns.* field equals tshark on the capture and on the corpus', { skip }, async () => {
  // One run of each tool over the capture and the corpus files with DNS, put end to end.
  const all = join(dir, 'all.pcapng')
  sh('mergecap', ['-a', '-w', all, file, ...['dns_udp.pcap', 'dns_tcp.pcap', 'LINKTYPE_IPV4.pcap', 'time_2038_overflow.pcap'].map((n) => join(corpus, 'tcpdump', n))])
  const compared = await assertFieldsEqual(all, ['frame.protocols', ...await pluginFields('dns')])
  assert.ok(compared > 1000, `compared ${compared} fields`)
})

test('DNS lines of -T text equal tcpdump -n', { skip }, async () => {
  // UDP lines entirely; TCP lines from the length on (the DNS part tcpdump appends).
  const dns = (l: string): boolean => /\.(53|5353)[ :]/.test(l) && !l.includes('Flags [') ? true : / length \d+ \d+/.test(l)
  const lines = await textLines(file, dns)
  assert.ok(lines.tcpdump.length >= 30, `${lines.tcpdump.length} lines`)
  assert.deepEqual(lines.netkit, lines.tcpdump)
  assert.ok(lines.tcpdump.some((l) => l.includes(' NXDomain')), 'an NXDOMAIN answer')
  assert.ok(lines.tcpdump.some((l) => l.includes(' (QM)? ')), `an mDNS question: ${lines.tcpdump.join('\n')}`)
  for (const name of ['dns_udp.pcap', 'dns_tcp.pcap']) {
    const corpusLines = await textLines(join(corpus, 'tcpdump', name), dns)
    assert.deepEqual(corpusLines.netkit, corpusLines.tcpdump, name)
  }
})

test('truncated and bit-flipped copies of the capture decode without a dissector bug', { skip }, async () => {
  const seen = await assertSurvivesDamage(file, ['dns', 'mdns', 'llmnr'], 10)
  assert.ok(seen > 200, `${seen} DNS layers`)
})

test('cleanup', () => cleanup())
