// @ts-check
// DNS (RFC 1035) over UDP and TCP port 53 (over TCP each message has a two-byte length before
// it, RFC 1035 section 4.2.2, and may span segments), multicast DNS (RFC 6762, port 5353) and
// LLMNR (RFC 4795, port 5355), which share the format: the header, questions and resource
// records with tshark's dns.* fields, queries paired with their responses (dns.response_to,
// dns.time), and tcpdump's summary line.
import { defineDissector, FlowTable, IpProto, Port, Table } from 'netkit/plugin'
import { readName, name } from './names.js'
import { dnsLine } from './tcpdump-line.js'
import { record } from './records.js'

/** The fields the three protocols share (Wireshark's mDNS and LLMNR use dns.* too). */
export const FIELDS = {
  length: { name: 'dns.length', type: 'uint', label: 'Length' },
  id: { name: 'dns.id', type: 'uint', hexDigits: 4, label: 'Transaction ID' },
  flags: { name: 'dns.flags', type: 'uint', hexDigits: 4, label: 'Flags' },
  response: { name: 'dns.flags.response', type: 'bool', label: 'Response' },
  opcode: { name: 'dns.flags.opcode', type: 'uint', label: 'Opcode' },
  authoritative: { name: 'dns.flags.authoritative', type: 'bool', label: 'Authoritative' },
  conflict: { name: 'dns.flags.conflict', type: 'bool', label: 'Conflict' },
  truncated: { name: 'dns.flags.truncated', type: 'bool', label: 'Truncated' },
  recdesired: { name: 'dns.flags.recdesired', type: 'bool', label: 'Recursion desired' },
  tentative: { name: 'dns.flags.tentative', type: 'bool', label: 'Tentative' },
  recavail: { name: 'dns.flags.recavail', type: 'bool', label: 'Recursion available' },
  z: { name: 'dns.flags.z', type: 'bool', label: 'Z' },
  authenticated: { name: 'dns.flags.authenticated', type: 'bool', label: 'Answer authenticated' },
  checkdisable: { name: 'dns.flags.checkdisable', type: 'bool', label: 'Non-authenticated data' },
  rcode: { name: 'dns.flags.rcode', type: 'uint', label: 'Reply code' },
  queries: { name: 'dns.count.queries', type: 'uint', label: 'Questions' },
  answers: { name: 'dns.count.answers', type: 'uint', label: 'Answer RRs' },
  authRr: { name: 'dns.count.auth_rr', type: 'uint', label: 'Authority RRs' },
  addRr: { name: 'dns.count.add_rr', type: 'uint', label: 'Additional RRs' },
  zones: { name: 'dns.count.zones', type: 'uint', label: 'Zones' },
  prerequisites: { name: 'dns.count.prerequisites', type: 'uint', label: 'Prerequisites' },
  updates: { name: 'dns.count.updates', type: 'uint', label: 'Updates' },
  qryName: { name: 'dns.qry.name', type: 'string', label: 'Name' },
  qryNameLen: { name: 'dns.qry.name.len', type: 'uint', label: 'Name Length' },
  labels: { name: 'dns.count.labels', type: 'uint', label: 'Label Count' },
  qryType: { name: 'dns.qry.type', type: 'uint', label: 'Type' },
  qryClass: { name: 'dns.qry.class', type: 'uint', hexDigits: 4, label: 'Class' },
  qu: { name: 'dns.qry.qu', type: 'bool', label: '"QU" question' },
  respName: { name: 'dns.resp.name', type: 'string', label: 'Name' },
  respType: { name: 'dns.resp.type', type: 'uint', label: 'Type' },
  respClass: { name: 'dns.resp.class', type: 'uint', hexDigits: 4, label: 'Class' },
  cacheFlush: { name: 'dns.resp.cache_flush', type: 'bool', label: 'Cache flush' },
  ttl: { name: 'dns.resp.ttl', type: 'uint', label: 'Time to live' },
  respLen: { name: 'dns.resp.len', type: 'uint', label: 'Data length' },
  a: { name: 'dns.a', type: 'ipv4', label: 'Address' },
  aaaa: { name: 'dns.aaaa', type: 'ipv6', label: 'AAAA Address' },
  cname: { name: 'dns.cname', type: 'string', label: 'CNAME' },
  ns: { name: 'dns.ns', type: 'string', label: 'Name Server' },
  ptr: { name: 'dns.ptr.domain_name', type: 'string', label: 'Domain Name' },
  mxPreference: { name: 'dns.mx.preference', type: 'uint', label: 'Preference' },
  mxExchange: { name: 'dns.mx.mail_exchange', type: 'string', label: 'Mail Exchange' },
  txtLength: { name: 'dns.txt.length', type: 'uint', label: 'TXT Length' },
  txt: { name: 'dns.txt', type: 'string', label: 'TXT' },
  srvService: { name: 'dns.srv.service', type: 'string', label: 'Service' },
  srvProto: { name: 'dns.srv.proto', type: 'string', label: 'Protocol' },
  srvName: { name: 'dns.srv.name', type: 'string', label: 'Name' },
  srvPriority: { name: 'dns.srv.priority', type: 'uint', label: 'Priority' },
  srvWeight: { name: 'dns.srv.weight', type: 'uint', label: 'Weight' },
  srvPort: { name: 'dns.srv.port', type: 'uint', label: 'Port' },
  srvTarget: { name: 'dns.srv.target', type: 'string', label: 'Target' },
  soaMname: { name: 'dns.soa.mname', type: 'string', label: 'Primary name server' },
  soaRname: { name: 'dns.soa.rname', type: 'string', label: 'Responsible authority\'s mailbox' },
  soaSerial: { name: 'dns.soa.serial_number', type: 'uint', label: 'Serial Number' },
  soaRefresh: { name: 'dns.soa.refresh_interval', type: 'uint', label: 'Refresh Interval' },
  soaRetry: { name: 'dns.soa.retry_interval', type: 'uint', label: 'Retry Interval' },
  soaExpire: { name: 'dns.soa.expire_limit', type: 'uint', label: 'Expire limit' },
  soaMinimum: { name: 'dns.soa.minimum_ttl', type: 'uint', label: 'Minimum TTL' },
  udpPayloadSize: { name: 'dns.rr.udp_payload_size', type: 'uint', label: 'UDP payload size' },
  extRcode: { name: 'dns.resp.ext_rcode', type: 'uint', hexDigits: 2, label: 'Higher bits in extended RCODE' },
  ednsVersion: { name: 'dns.resp.edns0_version', type: 'uint', label: 'EDNS0 version' },
  ednsZ: { name: 'dns.resp.z', type: 'uint', hexDigits: 4, label: 'Z' },
  ednsDo: { name: 'dns.resp.z.do', type: 'bool', label: 'DO bit' },
  ednsReserved: { name: 'dns.resp.z.reserved', type: 'uint', hexDigits: 4, label: 'Reserved' },
  opt: { name: 'dns.opt', type: 'bool', label: 'Option' }, // FT_NONE: tshark prints 1 where present
  optCode: { name: 'dns.opt.code', type: 'uint', label: 'Option Code' },
  optLen: { name: 'dns.opt.len', type: 'uint', label: 'Option Length' },
  optData: { name: 'dns.opt.data', type: 'bytes', label: 'Option Data' },
  cookieClient: { name: 'dns.opt.cookie.client', type: 'bytes', label: 'Client Cookie' },
  cookieServer: { name: 'dns.opt.cookie.server', type: 'bytes', label: 'Server Cookie' },
  ecsFamily: { name: 'dns.opt.client.family', type: 'uint', label: 'Family' },
  ecsNetmask: { name: 'dns.opt.client.netmask', type: 'uint', label: 'Source Netmask' },
  ecsScope: { name: 'dns.opt.client.scope', type: 'uint', label: 'Scope Netmask' },
  padding: { name: 'dns.opt.padding', type: 'bytes', label: 'Padding' },
  keepalive: { name: 'dns.opt.edns_tcp_keepalive.timeout', type: 'uint', label: 'Timeout' },
  svcPriority: { name: 'dns.svcb.svcpriority', type: 'uint', label: 'SvcPriority' },
  svcTarget: { name: 'dns.svcb.targetname', type: 'string', label: 'TargetName' },
  svcKey: { name: 'dns.svcb.svcparam.key', type: 'uint', label: 'SvcParamKey' },
  svcValueLength: { name: 'dns.svcb.svcparam.value.length', type: 'uint', label: 'SvcParamValue length' },
  svcValue: { name: 'dns.svcb.svcparam.value', type: 'bytes', label: 'SvcParamValue' },
  svcMandatory: { name: 'dns.svcb.svcparam.mandatory.key', type: 'uint', label: 'Mandatory key' },
  svcAlpnLength: { name: 'dns.svcb.svcparam.alpn.length', type: 'uint', label: 'ALPN length' },
  svcAlpn: { name: 'dns.svcb.svcparam.alpn', type: 'string', label: 'ALPN' },
  svcPort: { name: 'dns.svcb.svcparam.port', type: 'uint', label: 'Port' },
  svcIpv4: { name: 'dns.svcb.svcparam.ipv4hint.ip', type: 'ipv4', label: 'IP' },
  svcIpv6: { name: 'dns.svcb.svcparam.ipv6hint.ip', type: 'ipv6', label: 'IP' },
  svcEch: { name: 'dns.svcb.svcparam.echconfig', type: 'bytes', label: 'ECHConfig' },
  responseIn: { name: 'dns.response_in', type: 'uint', label: 'Response In' },
  responseTo: { name: 'dns.response_to', type: 'uint', label: 'Request In' },
  time: { name: 'dns.time', type: 'double', decimals: 9, label: 'Time' },
}

/** @typedef {{ readonly [K in keyof typeof FIELDS]: number }} DnsFields */

/** Which protocol a message is: the flags and the class's top bit mean other things in mDNS and LLMNR. */
const DNS = 0, MDNS = 1, LLMNR = 2

/** Opcode 5 is UPDATE (RFC 2136): the four counts are zones, prerequisites, updates, additional. */
const OPCODE_UPDATE = 5

/** A query waiting for its response: its frame and time. */
class Query {
  /** @param {number} frame @param {number} sec @param {number} nsec */
  constructor(frame, sec, nsec) {
    this.frame = frame
    this.sec = sec
    this.nsec = nsec
    this.answered = false
  }
}

/**
 * Conversations remembered for pairing; past this many the table starts over. With at most
 * 65536 transaction ids per conversation, memory stays bounded whatever the file's size.
 */
const MAX_CONVERSATIONS = 1 << 16
/** The run's pairing table: per conversation (client, server), the open queries by id. */
const newPairs = () => /** @type {import('netkit').FlowTable<Map<number, Query>>} */ (new FlowTable())

/**
 * @param {string} protocol @param {string} title @param {number} kind
 * @param {import('netkit').TableEntry[]} register
 */
function define(protocol, title, kind, register) {
  return defineDissector({
    name: protocol,
    title,
    fields: FIELDS,
    register,
    handsOn: [],
    dissect(view, ctx, f) { dissect(view, ctx, /** @type {DnsFields} */ (f), kind) },
  })
}

/**
 * One DNS message (over TCP: the length prefix and the message, or a request for more bytes).
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {DnsFields} f @param {number} kind
 */
function dissect(view, ctx, f, kind) {
  let m = 0
  let length = view.reported
  // Over TCP a message has a length prefix (RFC 1035 section 4.2.2), whether TCP hands the
  // stream (flow) or a segment on its own (handoff IpProto.TCP: the summary line alone is shown).
  const overTcp = ctx.flow >= 0 || ctx.handoff === IpProto.TCP
  if (overTcp) {
    if (view.reported < 2) return ctx.needMore(2 - view.reported)
    const n = view.u16(0)
    if (view.reported < 2 + n) return ctx.needMore(2 + n - view.reported)
    ctx.pduLength(2 + n)
    ctx.set(f.length, n)
    m = 2
    length = n
  }
  // tcpdump prints DNS on port 53 (after "length N" over TCP, in place of "UDP, length N" over
  // UDP) and mDNS over UDP, not LLMNR.
  if (ctx.wantsInfo && (overTcp ? ctx.srcPort === Port.DNS || ctx.dstPort === Port.DNS : kind !== LLMNR)) {
    const line = overTcp ? ctx.infoLine(true).char(0x20) : ctx.infoFromMark().text(': ')
    dnsLine(line, view, m, length, kind === MDNS)
    ctx.info('', true) // the line stands even if the fields below end truncated, as tcpdump's does
  }
  const end = m + length
  const id = ctx.add(f.id, m, 2)
  const flags = ctx.add(f.flags, m + 2, 2)
  const response = flags >> 15
  const opcode = (flags >> 11) & 15
  ctx.set(f.response, response)
  ctx.set(f.opcode, opcode)
  if (kind === LLMNR) {
    ctx.set(f.conflict, (flags >> 10) & 1)
    ctx.set(f.truncated, (flags >> 9) & 1)
    ctx.set(f.tentative, (flags >> 8) & 1)
    if (response) ctx.set(f.rcode, flags & 15)
  } else {
    if (response) ctx.set(f.authoritative, (flags >> 10) & 1)
    ctx.set(f.truncated, (flags >> 9) & 1)
    ctx.set(f.recdesired, (flags >> 8) & 1)
    if (response) ctx.set(f.recavail, (flags >> 7) & 1)
    ctx.set(f.z, (flags >> 6) & 1)
    // In a query the AD bit (RFC 6840 section 5.7) shows only when set, as tshark shows it.
    if (response || flags & 0x20) ctx.set(f.authenticated, (flags >> 5) & 1)
    ctx.set(f.checkdisable, (flags >> 4) & 1)
    if (response) ctx.set(f.rcode, flags & 15)
  }
  const update = opcode === OPCODE_UPDATE
  const qd = ctx.add(update ? f.zones : f.queries, m + 4, 2)
  const an = ctx.add(update ? f.prerequisites : f.answers, m + 6, 2)
  const ns = ctx.add(update ? f.updates : f.authRr, m + 8, 2)
  const ar = ctx.add(f.addRr, m + 10, 2)
  let p = m + 12
  const mdns = kind === MDNS
  const qName = ctx.wants(f.qryName)
  // Every question takes at least 5 bytes and every record 11, so the counts cannot run the
  // loops past the message: a hostile count ends at the end of the bytes (truncated).
  for (let i = 0; i < qd; i++) {
    p = readName(view, m, p, end, qName)
    if (qName) ctx.setText(f.qryName, name.text)
    ctx.set(f.qryNameLen, name.length)
    ctx.set(f.labels, name.labels)
    ctx.add(f.qryType, p, 2)
    const cls = view.u16(p + 2)
    ctx.set(f.qryClass, mdns ? cls & 0x7fff : cls)
    if (mdns) ctx.set(f.qu, cls >> 15)
    p += 4
  }
  for (let i = 0, n = an + ns + ar; i < n; i++) p = record(view, ctx, f, m, p, end, mdns)
  if (ctx.wants(f.responseTo) || ctx.wants(f.time)) pair(view, ctx, f, id, response)
}

/**
 * Pairs a response with its query: same conversation (addresses and ports) and transaction id,
 * the query seen first (tshark's one pass: the query cannot name its response, which comes later).
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {DnsFields} f @param {number} id @param {number} response
 */
function pair(view, ctx, f, id, response) {
  const n = ctx.addrLength
  if (n === 0 || ctx.srcPort < 0) return
  const table = ctx.state('dns.pairs', newPairs)
  // Keyed by client then server: the query's source, the response's destination.
  const d = view.data
  const client = response ? ctx.dstOffset : ctx.srcOffset
  const server = response ? ctx.srcOffset : ctx.dstOffset
  const cport = response ? ctx.dstPort : ctx.srcPort
  const sport = response ? ctx.srcPort : ctx.dstPort
  let ids = table.get(d, client, server, n, cport, sport)
  if (!response) {
    if (ids === undefined) {
      if (table.size >= MAX_CONVERSATIONS) table.clear()
      ids = new Map()
      table.set(d, client, server, n, cport, sport, ids)
    }
    const q = ids.get(id)
    // A query repeated before its answer is a retransmission: the answer pairs with the first.
    if (q === undefined || q.answered) ids.set(id, new Query(ctx.frame, ctx.sec, ctx.nsec))
    return
  }
  const q = ids?.get(id)
  if (q === undefined) return
  q.answered = true
  ctx.set(f.responseTo, q.frame)
  ctx.set(f.time, (ctx.sec - q.sec) + (ctx.nsec - q.nsec) / 1e9)
}

export default [
  // Over TCP, port 5353 is plain DNS (tshark's mdns dissector takes UDP only).
  define('dns', 'Domain Name System', DNS, [{ table: Table.UDP_PORT, key: Port.DNS }, { table: Table.TCP_PORT, key: Port.DNS }, { table: Table.TCP_PORT, key: Port.MDNS }]),
  define('mdns', 'Multicast Domain Name System', MDNS, [{ table: Table.UDP_PORT, key: Port.MDNS }]),
  define('llmnr', 'Link-local Multicast Name Resolution', LLMNR, [{ table: Table.UDP_PORT, key: Port.LLMNR }]),
]
