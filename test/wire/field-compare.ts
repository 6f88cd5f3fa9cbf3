/**
 * Field-by-field agreement with tshark (the oracle), as ../shared/tools/compare-fields.py
 * measures it: both print `-T fields` for the same names; numbers compare as numbers (hex or
 * decimal), booleans as 1/0, text case-folded, repeated occurrences in order.
 */
import { netkit, tsharkFields } from '../helpers/cli.js'

function norm(v: string): string {
  return v.split(',').map((part) => {
    const p = part.trim().toLowerCase()
    if (/^0x[0-9a-f]+$/.test(p)) return String(BigInt(p))
    if (p === 'true') return '1'
    if (p === 'false') return '0'
    return p
  }).join(',')
}

/** Result of one file's comparison: agreeing values, all values, and the first disagreements. */
export interface Agreement { agree: number; total: number; mismatches: string[] }

/** Compares netkit's `-T fields` with tshark's on `file` for `fields`. */
export async function compareWithTshark(file: string, fields: string[], tsharkArgs: string[] = []): Promise<Agreement> {
  const ref = tsharkFields(file, fields, tsharkArgs).split('\n').slice(0, -1).map((l) => l.split('\t'))
  const r = await netkit(['read', '-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { timeoutMs: 120_000 })
  if (r.code !== 0) throw new Error(`netkit read -r ${file} failed (${r.code}): ${r.stderr}`)
  const got = r.stdout.split('\n').slice(0, -1).map((l) => l.split('\t'))
  let agree = 0
  let total = 0
  const mismatches: string[] = []
  ref.forEach((row, i) => {
    fields.forEach((name, j) => {
      total++
      const want = norm(row[j] ?? '')
      const have = got[i] === undefined ? undefined : norm(got[i][j] ?? '')
      if (have === want) agree++
      else if (mismatches.length < 10) mismatches.push(`frame ${i + 1} ${name}: tshark=${JSON.stringify(want)} netkit=${JSON.stringify(have)}`)
    })
  })
  if (got.length !== ref.length) mismatches.push(`tshark printed ${ref.length} lines, netkit ${got.length}`)
  return { agree, total, mismatches }
}

/** The fields of the tunnel and link dissectors, and the layers around them, compared with tshark. */
export const TUNNEL_FIELDS = [
  'frame.number', 'eth.src', 'eth.dst', 'eth.type', 'eth.len', 'vlan.id',
  'ip.src', 'ip.dst', 'ip.proto', 'ip.len', 'ip.id', 'ip.flags.mf', 'ip.frag_offset', 'ipv6.src', 'ipv6.dst', 'ipv6.nxt',
  'udp.srcport', 'udp.dstport', 'udp.length', 'tcp.srcport', 'tcp.dstport', 'tcp.port', 'tcp.seq_raw', 'tcp.len', 'icmp.type', 'icmp.seq', 'arp.opcode',
  'gre.flags_and_version', 'gre.flags.checksum', 'gre.flags.routing', 'gre.flags.key', 'gre.flags.sequence_number', 'gre.flags.version',
  'gre.proto', 'gre.checksum', 'gre.key', 'gre.sequence_number', 'gre.wccp.service_id',
  'erspan.version', 'erspan.vlan', 'erspan.cos', 'erspan.encap', 'erspan.bso', 'erspan.truncated', 'erspan.spanid', 'erspan.reserved', 'erspan.index',
  'erspan.timestamp', 'erspan.sgt', 'erspan.p', 'erspan.ft', 'erspan.hw', 'erspan.direction', 'erspan.gra', 'erspan.o',
  'vxlan.flags', 'vxlan.flag_g', 'vxlan.flag_i', 'vxlan.flags_reserved', 'vxlan.gbp', 'vxlan.vni', 'vxlan.reserved8',
  'geneve.version', 'geneve.flags', 'geneve.flags.oam', 'geneve.flags.critical', 'geneve.proto_type', 'geneve.vni', 'geneve.reserved',
  'geneve.options', 'geneve.option.class', 'geneve.option.type', 'geneve.option.length', 'geneve.option', 'geneve.option.unknown.data',
  'llc.dsap', 'llc.ssap', 'llc.control', 'llc.control.ftype', 'llc.control.u_modifier_cmd', 'llc.oui', 'llc.pid', 'llc.type', 'llc.cisco_pid',
  'stp.protocol', 'stp.version', 'stp.type', 'stp.flags', 'stp.flags.port_role', 'stp.root.prio', 'stp.root.ext', 'stp.root.hw', 'stp.root.cost',
  'stp.bridge.prio', 'stp.bridge.ext', 'stp.bridge.hw', 'stp.port', 'stp.msg_age', 'stp.max_age', 'stp.hello', 'stp.forward', 'stp.version_1_length',
  'stp.pvst.origvlan', 'mstp.version_3_length', 'mstp.config_name', 'mstp.config_revision_level', 'mstp.config_digest', 'mstp.cist_internal_root_path_cost',
  'mstp.cist_bridge.hw', 'mstp.cist_remaining_hops', 'mstp.msti.flags', 'mstp.msti.root.hw', 'mstp.msti.root_cost', 'mstp.msti.remaining_hops',
]

/** The reassembly fields of IPv4 and IPv6, compared with tshark. */
export const REASSEMBLY_FIELDS = [
  'frame.number', 'ip.src', 'ip.dst', 'ip.id', 'ip.len', 'ip.flags.mf', 'ip.frag_offset', 'ip.proto',
  'ip.fragment', 'ip.fragment.count', 'ip.reassembled_in', 'ip.reassembled.length', 'ip.reassembled.data', 'ip.fragments',
  'ipv6.src', 'ipv6.plen', 'ipv6.fraghdr.offset', 'ipv6.fraghdr.more', 'ipv6.fraghdr.ident',
  'ipv6.fragment', 'ipv6.fragment.count', 'ipv6.reassembled.in', 'ipv6.reassembled.length', 'ipv6.reassembled.data',
  'icmp.type', 'icmp.seq', 'icmpv6.type', 'udp.srcport', 'udp.length',
]
