// @ts-check
// UDP (RFC 768). The payload goes to the udp.port table, lower port first (as Wireshark tries).
import { defineDissector, IpProto, Table } from 'netkit/plugin'

export default defineDissector({
  name: 'udp',
  handsOn: [Table.UDP_PORT],
  title: 'User Datagram Protocol',
  fields: {
    srcport: { name: 'udp.srcport', type: 'uint', label: 'Source Port' },
    dstport: { name: 'udp.dstport', type: 'uint', label: 'Destination Port' },
    port: { name: 'udp.port', type: 'uint', label: 'Source or Destination Port' },
    length: { name: 'udp.length', type: 'uint', label: 'Length' },
    checksum: { name: 'udp.checksum', type: 'uint', hexDigits: 4, label: 'Checksum' },
    checksumStatus: { name: 'udp.checksum.status', type: 'uint', label: 'Checksum Status' },
  },
  register: [{ table: Table.IP_PROTO, key: IpProto.UDP }],
  dissect(view, ctx, f) {
    const sport = ctx.add(f.srcport, 0, 2)
    const dport = ctx.add(f.dstport, 2, 2)
    if (ctx.wants(f.port)) { ctx.set(f.port, sport); ctx.set(f.port, dport) }
    const length = ctx.add(f.length, 4, 2)
    ctx.add(f.checksum, 6, 2)
    ctx.set(f.checksumStatus, 2)
    ctx.setPorts(sport, dport)
    // The mark lets a layer above (VXLAN, DNS, DHCP) replace ": UDP, length N", as tcpdump prints it.
    if (ctx.wantsInfo) ctx.endpointsLine(sport, dport).mark().text(': UDP, length ').dec(Math.max(0, length - 8))
    if (length < 8) return ctx.malformed(`bogus UDP length (${length}, must be at least 8)`)
    if (length > view.reported) return ctx.malformed(`bogus UDP length (${length}, more than the ${view.reported} bytes the IP layer carries)`)
    ctx.limit(0, length)
    const lo = Math.min(sport, dport), hi = Math.max(sport, dport)
    ctx.next(Table.UDP_PORT, lo, 8, hi)
  },
})

