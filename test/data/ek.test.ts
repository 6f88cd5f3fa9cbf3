/**
 * `-T ek` (tshark's Elasticsearch/OpenSearch bulk format) on `read` and `capture`, and
 * `netkit export --ek-mapping` (as `tshark -G elastic-mapping`): every line is JSON, lines come
 * in index/document pairs, the documents' timestamps, frame numbers and addresses are tshark's
 * on the same files, and the mapping types the keys the documents use.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { corpus, needs, netkit, sh } from '../helpers/cli.js'
import { captureSkip, createVethPair, startCapture } from '../capture/netns.js'

const files = ['ipv4_tcp_http_xml.pcap', 'icmpv6.pcap'].map((f) => join(corpus, 'tcpdump', f))

type Doc = { timestamp: string; layers: Record<string, Record<string, unknown>> }

/** Checks the bulk lines' pairing and returns the documents. */
function bulk(text: string): Doc[] {
  const lines = text.trim().split('\n')
  assert.equal(lines.length % 2, 0, 'index and document lines pair up')
  const docs: Doc[] = []
  for (let i = 0; i < lines.length; i += 2) {
    const index = JSON.parse(lines[i]) as { index: { _index: string; _type: string } }
    assert.match(index.index._index, /^packets-\d{4}-\d{2}-\d{2}$/, lines[i])
    const doc = JSON.parse(lines[i + 1]) as Doc
    assert.match(doc.timestamp, /^\d+$/)
    assert.equal(typeof doc.layers, 'object')
    docs.push(doc)
  }
  return docs
}

test('read -T ek: JSON lines in index/document pairs, with tshark\'s timestamps, numbers and addresses', { skip: needs('tshark') }, async () => {
  for (const file of files) {
    const r = await netkit(['read', '-r', file, '-T', 'ek'])
    assert.equal(r.code, 0, r.stderr)
    const ours = bulk(r.stdout)
    const theirs = bulk(sh('tshark', ['-n', '-r', file, '-T', 'ek']))
    assert.equal(ours.length, theirs.length, file)
    for (let i = 0; i < ours.length; i++) {
      const [o, t] = [ours[i], theirs[i]]
      assert.equal(o.timestamp, t.timestamp, `${file} #${i + 1} timestamp`)
      assert.equal(o.layers.frame.frame_frame_number, t.layers.frame.frame_frame_number)
      assert.equal(o.layers.frame.frame_frame_len, t.layers.frame.frame_frame_len)
      for (const [layer, key] of [['ip', 'ip_ip_src'], ['ip', 'ip_ip_dst'], ['ip', 'ip_ip_ttl'], ['ipv6', 'ipv6_ipv6_src'], ['tcp', 'tcp_tcp_srcport'], ['udp', 'udp_udp_dstport'], ['ip', 'ip_ip_id']]) {
        if (t.layers[layer]?.[key] === undefined) continue
        assert.deepEqual(o.layers[layer]?.[key], t.layers[layer][key], `${file} #${i + 1} ${key}`)
      }
    }
  }
})

test('export --ek-mapping types the fields the documents carry', async () => {
  const r = await netkit(['export', '--ek-mapping', '-e', 'ip.src', '-e', 'ip.ttl', '-e', 'tcp.srcport', '-e', 'tcp.flags.syn', '-e', 'http.host'])
  assert.equal(r.code, 0, r.stderr)
  const m = JSON.parse(r.stdout) as { mappings: { dynamic: boolean; properties: { timestamp: { type: string }; layers: { properties: Record<string, { properties: Record<string, { type: string }> }> } } } }
  assert.equal(m.mappings.dynamic, false)
  assert.equal(m.mappings.properties.timestamp.type, 'date')
  const layers = m.mappings.properties.layers.properties
  assert.deepEqual(layers.ip.properties, { ip_ip_src: { type: 'ip' }, ip_ip_ttl: { type: 'long' } })
  assert.equal(layers.tcp.properties.tcp_tcp_srcport.type, 'long')
  assert.equal(layers.tcp.properties.tcp_tcp_flags_syn.type, 'boolean')
  assert.equal(layers.http, undefined, 'text fields are not mapped (as tshark leaves them out)')
  const all = JSON.parse((await netkit(['export', '--ek-mapping'])).stdout) as typeof m
  const docs = bulk((await netkit(['read', '-r', files[0], '-T', 'ek'])).stdout)
  for (const d of docs) {
    for (const [layer, fields] of Object.entries(d.layers)) {
      for (const [key, value] of Object.entries(fields)) {
        const type = all.mappings.properties.layers.properties[layer]?.properties[key]?.type
        if (type === 'boolean') assert.equal(typeof value, 'boolean', key)
        if (type === 'long') assert.match(String(value), /^-?\d+(,-?\d+)*$/, key)
      }
    }
  }
  const bad = await netkit(['export', '--ek-mapping', '-e', 'no.such.field'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /unknown field 'no\.such\.field'/)
})

test('capture -T ek writes the bulk pairs live', { skip: captureSkip() }, async () => {
  const pair = createVethPair()
  try {
    const cap = await startCapture(pair, ['-i', pair.iface, '-c', '5', '-T', 'ek', 'ether proto 0x88b5'])
    pair.send(5, 100)
    const end = await cap.exited
    assert.equal(end.code, 0, cap.stderr())
    const docs = bulk(cap.stdout())
    assert.equal(docs.length, 5)
    assert.deepEqual(docs.map((d) => d.layers.frame.frame_frame_number), ['1', '2', '3', '4', '5'])
    assert.equal(docs[0].layers.eth.eth_eth_src, '02:00:00:00:00:01')
  } finally {
    pair.cleanup()
  }
})
