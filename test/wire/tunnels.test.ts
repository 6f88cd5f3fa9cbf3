// Tunnels and link protocols (GRE, ERSPAN, VXLAN, Geneve, LLC, STP) against the oracles: the
// tests make tunnels between network namespaces with `ip link add`, or with Open vSwitch's
// userspace datapath where the kernel has no driver for the kind, send pings, TCP transfers
// and 4000-byte pings through and beside them, capture the underlay, and check that netkit's
// fields equal tshark's (the inner frame's eth.src, ip.src, tcp.port as extra occurrences, in
// tshark's order) and its text lines tcpdump -n's. A kind neither can make is skipped with the
// reason; real captures from tcpdump's test suite (test/fixtures/wire) cover it too. Hostile input: the dissectors run over the corpus and over truncated and bit-flipped
// copies of these captures with no exception leaving a layer.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { corpus, needs, netkit, root, run, tempDir, tsharkFields } from '../helpers/cli.js'
import { compareWithTshark, REASSEMBLY_FIELDS, TUNNEL_FIELDS } from './field-compare.js'
import { captureTunnels, labSkip, TUNNEL_KINDS, type LabCapture } from './tunnel-lab.js'
import { hostileRun, mutations } from './hostile.js'

const fixtures = join(root, 'test', 'fixtures', 'wire')
const fixtureFiles = readdirSync(fixtures).filter((n) => n.endsWith('.pcap')).map((n) => join(fixtures, n))
const skip = labSkip()
const tmp = tempDir('netkit-wire-')
let lab: LabCapture | undefined

before(async () => {
  if (!skip) lab = await captureTunnels(join(tmp.dir, 'tunnels.pcap'))
})
after(() => tmp.cleanup())

/** The per-packet records of tcpdump-style text (a record may span lines: VXLAN's does). */
function records(text: string): string[] {
  return text.split(/\n(?=\d\d:\d\d:\d\d\.\d{6} )/).map((r) => r.trimEnd()).filter((r) => r !== '')
}

/**
 * Inner protocols whose text netkit's other dissectors print differently from tcpdump (IPv6
 * extension headers, SSH banners): outside this change, so such records are not compared.
 */
const OTHER_PRINTERS = /: HBH |: DSTOPT |: SSH: /

/**
 * Asserts that netkit's text record equals tcpdump -n's for every packet whose record has
 * `marker` in it (the tunnel's header); returns the records compared.
 */
async function assertTextLines(file: string, marker: RegExp): Promise<string[]> {
  // IP fragments are printed by tcpdump from each fragment's own bytes; netkit reassembles them
  // as tshark does (reassembly.test.ts), so their lines are not compared here.
  const fragments = new Set(tsharkFields(file, ['ip.flags.mf', 'ip.frag_offset']).split('\n')
    .map((l, i) => (/1|[1-9]/.test(l) ? i : -1)).filter((i) => i >= 0))
  const ref = await run('tcpdump', ['-n', '-r', file])
  const got = await netkit(['read', '-r', file])
  assert.equal(got.code, 0, got.stderr)
  const want = records(ref.stdout)
  const have = records(got.stdout)
  assert.equal(have.length, want.length, 'one record per packet')
  const compared: string[] = []
  want.forEach((w, i) => {
    if (!marker.test(w) || OTHER_PRINTERS.test(w) || fragments.has(i)) return
    compared.push(w)
    assert.equal(have[i], w, `packet ${i + 1} of ${file}`)
  })
  return compared
}

/** The lab capture's frame.protocols and erspan.version per frame (tshark runs once). */
let labRows: string[][] | undefined
const rowsOfLab = (): string[][] => (labRows ??= tsharkFields(lab!.file, ['frame.protocols', 'erspan.version']).split('\n')
  .filter((l) => l !== '').map((l) => l.split('\t')))

/** How each kind's packets start in frame.protocols, and the ERSPAN version they carry. */
const SEEN_AS: Record<string, { protocols: string; erspan?: string }> = {
  vxlan: { protocols: 'eth:ethertype:ip:udp:vxlan:eth:' }, vxlan6: { protocols: 'eth:ethertype:ipv6:udp:vxlan:eth:' },
  geneve: { protocols: 'eth:ethertype:ip:udp:geneve:eth:' }, gretap: { protocols: 'eth:ethertype:ip:gre:eth:' },
  gre: { protocols: 'eth:ethertype:ip:gre:ip:' }, erspan2: { protocols: 'eth:ethertype:ip:gre:erspan:eth:', erspan: '1' },
  erspan3: { protocols: 'eth:ethertype:ip:gre:erspan:eth:', erspan: '2' }, ip6erspan: { protocols: 'eth:ethertype:ipv6:gre:erspan:eth:', erspan: '1' },
  ip6gretap: { protocols: 'eth:ethertype:ipv6:gre:eth:' },
}

for (const kind of TUNNEL_KINDS) {
  test(`the ${kind.name} tunnel (the kernel's, else Open vSwitch's) is in the capture`, { skip }, (t) => {
    if (lab!.missing[kind.name] !== undefined) return t.skip(`nothing here makes ${kind.name}: ${lab!.missing[kind.name]}`)
    const seen = SEEN_AS[kind.name]
    const frames = rowsOfLab().filter(([protocols, erspan]) => protocols.startsWith(seen.protocols) && (seen.erspan === undefined || erspan === seen.erspan))
    assert.ok(frames.length >= 4, `tshark sees ${frames.length} frames of ${seen.protocols}${seen.erspan ? ` ERSPAN version ${seen.erspan}` : ''} (pings both ways)`)
    if (lab!.byOvs.includes(kind.name)) {
      t.diagnostic(`made by Open vSwitch's userspace datapath (the kernel has no ${kind.name})`)
      assert.ok(frames.some(([protocols]) => protocols.endsWith(':tcp:data')), 'a TCP segment with payload crossed it')
    }
  })
}

test('lab capture: every tunnel, link and reassembly field equals tshark\'s', { skip }, async () => {
  const fields = [...new Set([...TUNNEL_FIELDS, ...REASSEMBLY_FIELDS])]
  const r = await compareWithTshark(lab!.file, fields)
  assert.deepEqual(r.mismatches, [], `${r.agree}/${r.total} values agree`)
  // Not vacuous: the inner frames were there and each layer gave its own occurrence.
  const rows = (await netkit(['read', '-r', lab!.file, '-T', 'fields', '-e', 'eth.src', '-e', 'ip.src', '-e', 'tcp.port', '-e', 'ip.fragment.count'])).stdout.split('\n').filter((l) => l !== '')
  assert.ok(rows.some((l) => l.split('\t')[0].split(',').length === 2), 'an inner Ethernet frame shows as a second eth.src')
  assert.ok(rows.some((l) => l.split('\t')[0].split(',').length === 2 && l.split('\t')[1].split(',').length === 2 && l.split('\t')[2].split(',').length === 2),
    'a TCP segment inside a tunnel: two eth.src, two ip.src, and its tcp.port pair')
  assert.ok(rows.filter((l) => l.split('\t')[3] === '3').length >= 4, 'the 4000-byte pings were reassembled from 3 fragments each')
})

test('lab capture: VXLAN, Geneve, GRE, ICMP and ICMPv6 text lines equal tcpdump -n\'s', { skip }, async () => {
  const compared = await assertTextLines(lab!.file, /: (VXLAN|Geneve|GREv\d|ICMP6?[ ,])/)
  // ICMP errors that quote a tunnelled packet print the error, not the packet quoted.
  const errors = compared.filter((r) => /: ICMP .*unreachable/.test(r)).length
  assert.ok(errors >= 2, `${errors} ICMP unreachable packets compared`)
  if (lab!.byOvs.some((k) => k.startsWith('ip6'))) {
    const v6errors = compared.filter((r) => /: ICMP6, (destination unreachable|parameter problem)/.test(r)).length
    assert.ok(v6errors >= 1, `${v6errors} ICMPv6 errors compared (B answers IPv6 GRE once its end is gone)`)
  }
  assert.match(rowsOfLab().map(([protocols]) => protocols).join('\n'), /:icmp:ip:(gre|udp:geneve):/, 'an ICMP error quotes a tunnel packet')
  // Each protocol the lab made was compared, with the pings and TCP it carried.
  const made = new Set(lab!.made)
  for (const [name, kinds] of [['VXLAN', ['vxlan', 'vxlan6']], ['Geneve', ['geneve']], ['GREv0', ['gretap', 'gre', 'erspan2', 'erspan3', 'ip6erspan', 'ip6gretap']]] as const) {
    if (!kinds.some((k) => made.has(k))) continue
    const n = compared.filter((r) => r.includes(`: ${name}`)).length
    assert.ok(n >= 8, `${n} ${name} packets compared`)
  }
})

/** The fixtures named (all of them by default) concatenated into one file: one run of each tool. */
async function merged(format: 'pcap' | 'pcapng', names?: string[]): Promise<string> {
  const out = join(tmp.dir, `fixtures-${names ? 'ethernet' : 'all'}.${format}`)
  const files = names ? names.map((n) => join(fixtures, `${n}.pcap`)) : fixtureFiles
  const r = await run('mergecap', ['-a', '-F', format, '-w', out, ...files])
  assert.equal(r.code, 0, r.stderr)
  return out
}

test('tcpdump\'s test captures: tunnel and link fields equal tshark\'s', { skip: needs('tshark', 'mergecap') }, async () => {
  const file = await merged('pcapng')
  const r = await compareWithTshark(file, [...TUNNEL_FIELDS, 'cmd.type', 'cmd.sgt'])
  assert.deepEqual(r.mismatches, [], `${r.agree}/${r.total} values agree`)
  assert.ok(r.total > 20_000, `${r.total} values compared`)
})

test('tcpdump\'s test captures: GRE, Geneve, VXLAN and STP lines equal tcpdump -n\'s', { skip: needs('tcpdump', 'mergecap') }, async () => {
  const file = await merged('pcap', ['various_gre', 'wccp_redirect_gre', 'geneve', 'geneve-gcp', 'vxlan', 'erspan-type-ii-2', '802.1w_rapid_STP', 'MSTP_Intra-Region_BPDUs'])
  const n = (await assertTextLines(file, /: (VXLAN|Geneve|GREv\d)|STP 802/)).length
  assert.ok(n >= 100, `${n} packets compared`)
})

test('hostile input: the corpus, and truncated and bit-flipped copies of the captures, leave no exception in a layer', async () => {
  const inputs = [...fixtureFiles, ...(lab ? [lab.file] : [])]
  const copies: string[] = []
  for (const file of inputs) {
    for (const [name, bytes] of mutations(readFileSync(file))) {
      const p = join(tmp.dir, `${name}-${file.split('/').pop()}`)
      writeFileSync(p, bytes)
      copies.push(p)
    }
  }
  const corpusFiles = readdirSync(join(corpus, 'tcpdump')).filter((n) => /\.pcap(ng)?$/.test(n)).map((n) => join(corpus, 'tcpdump', n))
  const report = await hostileRun([...corpusFiles, ...inputs, ...copies])
  assert.deepEqual(report.escaped, [], 'no exception escapes the engine')
  assert.deepEqual(report.bugs, [], 'no layer of ours failed by a programming error')
  assert.ok(report.packets > 1000, `${report.packets} packets dissected`)
  assert.ok(report.tunnelLayers > 100, `${report.tunnelLayers} layers of the new dissectors ran`)
})

test('netkit dissectors lists the tunnel and link dissectors, their tables and fields', async () => {
  const r = await netkit(['dissectors'])
  assert.equal(r.code, 0, r.stderr)
  for (const line of [
    /^gre {2}Generic Routing Encapsulation {2}\[ip\.proto=47\]/m,
    /^erspan .*\[gre\.proto=0x88be, gre\.proto=0x22eb\]/m,
    /^eth .*gre\.proto=0x6558/m,
    /^vxlan .*\[udp\.port=4789\]/m,
    /^geneve .*\[udp\.port=6081\]/m,
    /^llc .*\[link=100, ieee802\.3=0\]/m,
    /^stp .*llc\.dsap=66/m,
    /^cmd .*ethertype=0x8909/m,
    /^\s+ip\.fragment\.count\s+uint/m,
    /^\s+ipv6\.reassembled\.in\s+uint/m,
    /^\s+vxlan\.vni\s+uint/m,
    /^\s+geneve\.option\.class\s+uint/m,
    /^\s+mstp\.config_name\s+string/m,
  ]) assert.match(r.stdout, line)
})
