// TLS on real traffic: curl and openssl s_client talk to openssl s_server (a certificate the
// test makes) across namespaces, TLS 1.3 and 1.2, on 443 and on ports only the heuristic finds,
// with SNI and ALPN, a refused version (a plaintext alert), and responses larger than a segment
// (offloads off, so records span segments and are reassembled), with loss after the capture point
// (so the capture holds retransmissions). Every tls.* field netkit declares equals tshark's on
// every frame, and damaged copies of the capture decode without a bug.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ChildProcess } from 'node:child_process'
import { needs, netkit, sh, tempDir, tsharkFields } from '../helpers/cli.js'
import { assertFieldsEqual, assertSurvivesDamage, captureSkip, captureTraffic, pluginFields, retransmissions } from './app-capture.js'

const skip = captureSkip() || needs('openssl', 'curl', 'ethtool', 'tcpdump', 'tshark')
const { dir, cleanup } = tempDir('netkit-tls-')
const file = join(dir, 'tls.pcap')

test('curl and openssl s_client against openssl s_server: capture', { skip }, async () => {
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  sh('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=tls.test'])
  await captureTraffic(file, async (pair) => {
    // Segmentation offloads off: the capture sees wire-size segments, so records span several.
    for (const [ns, iface] of [[pair.ns, pair.iface], [pair.peerNs, pair.peerIface]]) {
      pair.exec(ns, 'ethtool', ['-K', iface, 'tso', 'off', 'gso', 'off', 'gro', 'off'])
    }
    // Loss both ways, after the capture point: each namespace's input drops every fifth TCP
    // segment with data, so the capture holds originals and their retransmissions.
    for (const ns of [pair.ns, pair.peerNs]) {
      const rules = join(dir, `loss-${ns}.nft`)
      writeFileSync(rules, 'table inet netkittlsloss {\n chain in { type filter hook input priority 0;\n' +
        '  meta l4proto tcp ip length > 52 numgen inc mod 5 == 2 drop; }\n}\n')
      pair.exec(ns, 'nft', ['-f', rules])
    }
    const servers: ChildProcess[] = []
    const serve = (port: number, ...extra: string[]): void => {
      servers.push(pair.spawn(pair.ns, 'openssl', ['s_server', '-quiet', '-accept', String(port), '-cert', cert, '-key', key, '-www', ...extra]))
    }
    try {
      serve(443, '-alpn', 'http/1.1')
      serve(4433)
      serve(9443, '-tls1_3')
      await sleep(500)
      const url = `https://${pair.addr}`
      const curl = (...args: string[]): string => pair.exec(pair.peerNs, 'curl', ['-m', '5', '-sk', '-o', '/dev/null', '-w', '%{http_version}', ...args])
      curl('--tlsv1.3', `${url}/`)
      curl('--tlsv1.2', '--tls-max', '1.2', `${url}/`)
      curl(`${url}:4433/`)
      pair.exec(pair.peerNs, 'openssl', ['s_client', '-connect', `${pair.addr}:4433`, '-servername', 'tls.test', '-alpn', 'h2,http/1.1', '-tls1_2'])
      // A TLS 1.3-only server refuses a TLS 1.2 client with a plaintext protocol_version alert.
      assert.throws(() => pair.exec(pair.peerNs, 'openssl', ['s_client', '-connect', `${pair.addr}:9443`, '-tls1_2']))
      await sleep(200)
    } finally {
      for (const s of servers) s.kill()
    }
  })
})

test('every tls.* field equals tshark, records reassembled across segments, other ports by heuristic', { skip }, async () => {
  // Every frame, retransmissions included: neither tshark nor netkit hands a retransmitted
  // segment's bytes to TLS again (docs/plugins.md, "Protocols over TCP").
  assert.ok(retransmissions(file).size > 0, 'the capture holds retransmissions')
  const compared = await assertFieldsEqual(file, ['tcp.stream', ...await pluginFields('tls')])
  assert.ok(compared > 300, `compared ${compared} fields`)
  const reassembled = tsharkFields(file, ['frame.number'], ['-Y', 'tls && tcp.segment.count > 1']).split('\n').filter(Boolean)
  assert.ok(reassembled.length > 0, 'some record spans segments')
  const got = await netkit(['read', '-r', file, '-T', 'fields', '-e', 'tcp.port', '-e', 'tls.handshake.extensions_server_name', '-e', 'tls.handshake.extensions_alpn_str', '-e', 'tls.alert_message.desc', '-e', 'tls.handshake.extensions.supported_version'])
  const rows = got.stdout.split('\n').map((l) => l.split('\t'))
  assert.ok(rows.some((r) => r[0].includes('4433') && r[1] === 'tls.test' && r[2] === 'h2,http/1.1'), 'SNI and ALPN on a port found by the heuristic')
  assert.ok(rows.some((r) => r[0].includes('9443') && r[3] === '70'), 'protocol_version alert')
  assert.ok(rows.some((r) => r[0].includes('443') && r[4] === '0x0304'), 'TLS 1.3 selected')
})

test('truncated and bit-flipped copies of the capture decode without a dissector bug', { skip }, async () => {
  const seen = await assertSurvivesDamage(file, ['tls'], 10)
  assert.ok(seen > 200, `${seen} TLS layers`)
})

test('netkit dissectors lists the DNS, DHCP and TLS tables, fields and heuristic', async () => {
  const r = await netkit(['dissectors', '--json'])
  assert.equal(r.code, 0, r.stderr)
  const list = JSON.parse(r.stdout) as Array<{ name: string; tables: Array<{ table: string; key: number | string }>; fields: Array<{ name: string }> }>
  const entry = (name: string) => list.find((d) => d.name === name)
  const tables = (name: string) => entry(name)?.tables.map((t) => `${t.table}=${t.key}`)
  assert.deepEqual(tables('tls'), ['tcp.port=443', 'tcp.port=heuristic'])
  assert.deepEqual(tables('dns'), ['udp.port=53', 'tcp.port=53', 'tcp.port=5353'])
  assert.deepEqual(tables('mdns'), ['udp.port=5353'])
  assert.deepEqual(tables('llmnr'), ['udp.port=5355'])
  assert.deepEqual(tables('dhcp'), ['udp.port=67', 'udp.port=68'])
  for (const [name, plugin] of [['tls', 'tls'], ['dns', 'dns'], ['dhcp', 'dhcp']]) {
    assert.deepEqual(entry(name)?.fields.map((f) => f.name), await pluginFields(plugin), name)
  }
})

test('cleanup', () => cleanup())
