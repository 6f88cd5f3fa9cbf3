// @ts-check
// BOOTP (RFC 951) and DHCP (RFC 2131, options RFC 2132) on UDP ports 67 and 68: the fixed
// header and the options, with tshark's dhcp.* fields, and tcpdump's summary line.
import { defineDissector, Port, Table, TRUNCATED } from 'netkit/plugin'

/** BOOTP message op codes (RFC 951). */
const Op = { REQUEST: 1, REPLY: 2 }
/** ARP hardware type of Ethernet (RFC 1700), and its address length. */
const HTYPE_ETHERNET = 1
const ETHER_LEN = 6
/** Offsets in the fixed header (RFC 2131 figure 1). */
const CHADDR = 28, SNAME = 44, FILE = 108, COOKIE = 236, OPTIONS = 240
/** The DHCP magic cookie 99.130.83.99 (RFC 2131 section 3). */
const MAGIC_COOKIE = 0x63825363
/** Option codes (RFC 2132 and IANA bootp-dhcp-parameters). */
const Opt = {
  PAD: 0, SUBNET_MASK: 1, ROUTER: 3, DNS_SERVER: 6, HOSTNAME: 12, DOMAIN_NAME: 15, BROADCAST: 28,
  REQUESTED_IP: 50, LEASE_TIME: 51, MESSAGE_TYPE: 53, SERVER_ID: 54, PARAMETER_LIST: 55, MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58, REBINDING_TIME: 59, VENDOR_CLASS: 60, CLIENT_ID: 61, END: 255,
}

export default defineDissector({
  name: 'dhcp',
  title: 'Dynamic Host Configuration Protocol',
  handsOn: [],
  fields: {
    type: { name: 'dhcp.type', type: 'uint', label: 'Message type' },
    hwType: { name: 'dhcp.hw.type', type: 'uint', hexDigits: 2, label: 'Hardware type' },
    hwLen: { name: 'dhcp.hw.len', type: 'uint', label: 'Hardware address length' },
    hops: { name: 'dhcp.hops', type: 'uint', label: 'Hops' },
    id: { name: 'dhcp.id', type: 'uint', hexDigits: 8, label: 'Transaction ID' },
    secs: { name: 'dhcp.secs', type: 'uint', label: 'Seconds elapsed' },
    flags: { name: 'dhcp.flags', type: 'uint', hexDigits: 4, label: 'Bootp flags' },
    broadcast: { name: 'dhcp.flags.bc', type: 'bool', label: 'Broadcast flag' },
    reserved: { name: 'dhcp.flags.reserved', type: 'uint', hexDigits: 4, label: 'Reserved flags' },
    client: { name: 'dhcp.ip.client', type: 'ipv4', label: 'Client IP address' },
    your: { name: 'dhcp.ip.your', type: 'ipv4', label: 'Your (client) IP address' },
    server: { name: 'dhcp.ip.server', type: 'ipv4', label: 'Next server IP address' },
    relay: { name: 'dhcp.ip.relay', type: 'ipv4', label: 'Relay agent IP address' },
    mac: { name: 'dhcp.hw.mac_addr', type: 'ether', label: 'Client MAC address' },
    hwAddr: { name: 'dhcp.hw.addr', type: 'bytes', label: 'Client hardware address' },
    padding: { name: 'dhcp.hw.addr_padding', type: 'bytes', label: 'Client hardware address padding' },
    sname: { name: 'dhcp.server', type: 'string', label: 'Server host name' },
    file: { name: 'dhcp.file', type: 'string', label: 'Boot file name' },
    cookie: { name: 'dhcp.cookie', type: 'ipv4', label: 'Magic cookie' },
    option: { name: 'dhcp.option.type', type: 'uint', label: 'Option' },
    optionLength: { name: 'dhcp.option.length', type: 'uint', label: 'Length' },
    optionValue: { name: 'dhcp.option.value', type: 'bytes', label: 'Value' },
    end: { name: 'dhcp.option.end', type: 'uint', label: 'Option End' },
    optionPadding: { name: 'dhcp.option.padding', type: 'bytes', label: 'Padding' },
    messageType: { name: 'dhcp.option.dhcp', type: 'uint', label: 'DHCP' },
    subnetMask: { name: 'dhcp.option.subnet_mask', type: 'ipv4', label: 'Subnet Mask' },
    router: { name: 'dhcp.option.router', type: 'ipv4', label: 'Router' },
    dnsServer: { name: 'dhcp.option.domain_name_server', type: 'ipv4', label: 'Domain Name Server' },
    hostname: { name: 'dhcp.option.hostname', type: 'string', label: 'Host Name' },
    domainName: { name: 'dhcp.option.domain_name', type: 'string', label: 'Domain Name' },
    broadcastAddress: { name: 'dhcp.option.broadcast_address', type: 'ipv4', label: 'Broadcast Address' },
    requestedIp: { name: 'dhcp.option.requested_ip_address', type: 'ipv4', label: 'Requested IP Address' },
    leaseTime: { name: 'dhcp.option.ip_address_lease_time', type: 'uint', label: 'IP Address Lease Time' },
    serverId: { name: 'dhcp.option.dhcp_server_id', type: 'ipv4', label: 'DHCP Server Identifier' },
    requestItem: { name: 'dhcp.option.request_list_item', type: 'uint', label: 'Parameter Request List Item' },
    maxMessageSize: { name: 'dhcp.option.dhcp_max_message_size', type: 'uint', label: 'Maximum DHCP Message Size' },
    renewalTime: { name: 'dhcp.option.renewal_time_value', type: 'uint', label: 'Renewal Time Value' },
    rebindingTime: { name: 'dhcp.option.rebinding_time_value', type: 'uint', label: 'Rebinding Time Value' },
    vendorClass: { name: 'dhcp.option.vendor_class_id', type: 'string', label: 'Vendor class identifier' },
  },
  register: [{ table: Table.UDP_PORT, key: Port.BOOTPS }, { table: Table.UDP_PORT, key: Port.BOOTPC }],
  dissect(view, ctx, f) {
    if (ctx.wantsInfo) {
      tcpdumpLine(ctx.infoFromMark().text(': '), view)
      ctx.info('', true) // the line stands even if the fields below end truncated, as tcpdump's does
    }
    if (!scanOptions(view)) return
    const op = ctx.add(f.type, 0, 1)
    const htype = ctx.add(f.hwType, 1, 1)
    const hlen = ctx.add(f.hwLen, 2, 1)
    ctx.add(f.hops, 3, 1)
    ctx.add(f.id, 4, 4)
    ctx.add(f.secs, 8, 2)
    const flags = ctx.add(f.flags, 10, 2)
    ctx.set(f.broadcast, flags >> 15)
    ctx.set(f.reserved, flags & 0x7fff)
    ctx.add(f.client, 12, 4)
    ctx.add(f.your, 16, 4)
    ctx.add(f.server, 20, 4)
    ctx.add(f.relay, 24, 4)
    if (htype === HTYPE_ETHERNET && hlen === ETHER_LEN) {
      ctx.add(f.mac, CHADDR, ETHER_LEN)
      ctx.add(f.padding, CHADDR + ETHER_LEN, 16 - ETHER_LEN)
    } else if (hlen > 0 && hlen <= 16) {
      ctx.add(f.hwAddr, CHADDR, hlen)
      if (hlen < 16) ctx.add(f.padding, CHADDR + hlen, 16 - hlen)
    }
    nulTerminated(view, ctx, f.sname, SNAME, FILE - SNAME)
    nulTerminated(view, ctx, f.file, FILE, COOKIE - FILE)
    if (op !== Op.REQUEST && op !== Op.REPLY) return
    if (view.reported < OPTIONS || view.u32(COOKIE) !== MAGIC_COOKIE) return
    ctx.add(f.cookie, COOKIE, 4)
    options(view, ctx, f)
  },
})

/**
 * Walks the options' codes and lengths before any field is recorded, as tshark does to find the
 * message type first. False when the capture cuts them short: tshark then shows the layer with
 * no fields (and tcpdump's line, which reads no option without -v, is whole).
 * @param {import('netkit').ByteView} view
 */
function scanOptions(view) {
  if (view.reported < OPTIONS || !view.has(COOKIE, 4) || view.u32(COOKIE) !== MAGIC_COOKIE) return true
  for (let p = OPTIONS; p < view.reported;) {
    if (!view.has(p, 2)) return view.has(p, 1) && view.u8(p) === Opt.END
    const code = view.u8(p)
    if (code === Opt.END) return true
    if (code === Opt.PAD) p++
    else p += 2 + view.u8(p + 1)
  }
  return true
}

/**
 * A fixed-size text field that ends at its first NUL; tshark shows nothing for an empty one.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {number} field @param {number} at @param {number} size
 */
function nulTerminated(view, ctx, field, at, size) {
  view.need(at, size)
  if (view.u8(at) === 0) return
  const nul = view.indexOf(0, at, at + size)
  ctx.add(field, at, (nul < 0 ? at + size : nul) - at)
}

/**
 * The options (RFC 2132 section 2): type, length, value, and the fields of the common ones;
 * after the End option, what is left is padding.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {Record<string, number>} f
 */
function options(view, ctx, f) {
  const end = view.reported
  let p = OPTIONS
  while (p < end) {
    const code = view.u8(p)
    if (code === Opt.END) {
      ctx.set(f.option, 0) // tshark shows the End option's type as 0
      ctx.set(f.end, code)
      if (p + 1 < end) ctx.add(f.optionPadding, p + 1, end - p - 1)
      return
    }
    if (code === Opt.PAD) { p++; continue }
    ctx.set(f.option, code)
    const len = ctx.add(f.optionLength, p + 1, 1)
    const d = p + 2
    view.need(d, len)
    ctx.add(f.optionValue, d, len)
    value(ctx, f, code, d, len)
    p = d + len
  }
}

/**
 * The decoded value of the common options.
 * @param {import('netkit').DissectContext} ctx @param {Record<string, number>} f
 * @param {number} code @param {number} d @param {number} len
 */
function value(ctx, f, code, d, len) {
  switch (code) {
    case Opt.MESSAGE_TYPE: if (len === 1) ctx.add(f.messageType, d, 1); break
    case Opt.SUBNET_MASK: if (len === 4) ctx.add(f.subnetMask, d, 4); break
    case Opt.ROUTER: for (let q = d; q + 4 <= d + len; q += 4) ctx.add(f.router, q, 4); break
    case Opt.DNS_SERVER: for (let q = d; q + 4 <= d + len; q += 4) ctx.add(f.dnsServer, q, 4); break
    case Opt.HOSTNAME: ctx.add(f.hostname, d, len); break
    case Opt.DOMAIN_NAME: ctx.add(f.domainName, d, len); break
    case Opt.BROADCAST: if (len === 4) ctx.add(f.broadcastAddress, d, 4); break
    case Opt.REQUESTED_IP: if (len === 4) ctx.add(f.requestedIp, d, 4); break
    case Opt.LEASE_TIME: if (len === 4) ctx.add(f.leaseTime, d, 4); break
    case Opt.SERVER_ID: if (len === 4) ctx.add(f.serverId, d, 4); break
    case Opt.PARAMETER_LIST: for (let q = d; q < d + len; q++) ctx.add(f.requestItem, q, 1); break
    case Opt.MAX_MESSAGE_SIZE: if (len === 2) ctx.add(f.maxMessageSize, d, 2); break
    case Opt.RENEWAL_TIME: if (len === 4) ctx.add(f.renewalTime, d, 4); break
    case Opt.REBINDING_TIME: if (len === 4) ctx.add(f.rebindingTime, d, 4); break
    case Opt.VENDOR_CLASS: ctx.add(f.vendorClass, d, len); break
    case Opt.CLIENT_ID:
      // A client id of hardware type and address (RFC 2132 section 9.14): tshark shows them as
      // dhcp.hw.type and dhcp.hw.mac_addr.
      if (len === 1 + ETHER_LEN && ctx.add(f.hwType, d, 1) === HTYPE_ETHERNET) ctx.add(f.mac, d + 1, ETHER_LEN)
      break
  }
}

/**
 * tcpdump's line without -v (print-bootp.c): `BOOTP/DHCP, Request from MAC, length N`.
 * @param {import('netkit').InfoLine} line @param {import('netkit').ByteView} view
 */
function tcpdumpLine(line, view) {
  line.text('BOOTP/DHCP, ')
  try {
    const op = view.u8(0)
    if (op === Op.REQUEST) line.text('Request')
    else if (op === Op.REPLY) line.text('Reply')
    else line.text('unknown (0x').hex(op, 2).char(0x29)
    if (view.u8(1) === HTYPE_ETHERNET && view.u8(2) === ETHER_LEN && op === Op.REQUEST) {
      view.need(CHADDR, ETHER_LEN)
      line.text(' from ').ether(view.data, view.offset + CHADDR)
    }
    line.text(', length ').dec(view.reported)
  } catch (err) {
    if (err !== TRUNCATED) throw err
    line.text(' [|bootp]')
  }
}
