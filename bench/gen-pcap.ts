/**
 * Generates a classic pcap file of N Ethernet/IPv4/TCP packets (varied addresses, ports, flags
 * and payload sizes) with netkit's own writer, for the benchmarks.
 * usage: node --import tsx bench/gen-pcap.ts OUT.pcap [N=1000000]
 */
import { FileSink } from '../src/pcap/file-sink.js'
import { PcapWriter } from '../src/pcap/pcap-writer.js'

/** Writes `count` synthetic TCP packets to `path`. */
export function generateTcpPcap(path: string, count: number): void {
  const sink = FileSink.create(path)
  const w = new PcapWriter(sink, { linkType: 1, snaplen: 262144 })
  const frame = Buffer.alloc(14 + 20 + 20 + 512)
  // Ethernet
  Buffer.from('020000000002020000000001', 'hex').copy(frame, 0)
  frame.writeUInt16BE(0x0800, 12)
  let sec = 1_700_000_000
  let usec = 0
  for (let i = 0; i < count; i++) {
    const payload = (i * 37) % 400
    const ipLen = 20 + 20 + payload
    // IPv4
    frame[14] = 0x45; frame[15] = 0
    frame.writeUInt16BE(ipLen, 16)
    frame.writeUInt16BE(i & 0xffff, 18)
    frame.writeUInt16BE(0x4000, 20)
    frame[22] = 64; frame[23] = 6
    frame.writeUInt16BE(0, 24)
    // 2000 concurrent flows, as on a busy server's link (memory follows live flows, not packets).
    const flow = i % 2000
    frame.writeUInt32BE((10 << 24) | (flow >> 8 << 8) | ((flow & 0xff) + 1), 26)
    frame.writeUInt32BE((10 << 24) | (1 << 16) | (flow % 13) + 1, 30)
    let sum = 0
    for (let k = 14; k < 34; k += 2) sum += frame.readUInt16BE(k)
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
    frame.writeUInt16BE(~sum & 0xffff, 24)
    // TCP
    frame.writeUInt16BE(1024 + flow, 34)
    frame.writeUInt16BE(flow % 5 === 0 ? 443 : 80, 36)
    frame.writeUInt32BE((i * 1000) >>> 0, 38)
    frame.writeUInt32BE((i * 7) >>> 0, 42)
    frame[46] = 0x50
    frame[47] = i % 100 === 0 ? 0x02 : 0x18
    frame.writeUInt16BE(65535, 48)
    frame.writeUInt16BE(0, 50)
    frame.writeUInt16BE(0, 52)
    const len = 14 + ipLen
    usec += 137
    if (usec >= 1_000_000) { sec++; usec -= 1_000_000 }
    w.writeRecord(frame, 0, len, len, sec, usec * 1000)
  }
  w.close()
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2]
  if (!out) throw new Error('usage: gen-pcap.ts OUT.pcap [N]')
  generateTcpPcap(out, Number(process.argv[3] ?? 1_000_000))
}
