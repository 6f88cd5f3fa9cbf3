/**
 * Generates a large HTTP/1.1 capture for the stream benchmarks: many keep-alive connections
 * interleaved, each with requests and responses (Content-Length and chunked bodies of varied
 * sizes) cut into 1448-byte segments, with the TCP handshake and close, written with netkit's
 * own pcap writer.
 * usage: node --import tsx bench/gen-http.ts OUT.pcap [TRANSACTIONS=100000]
 */
import { FileSink } from '../src/pcap/file-sink.js'
import { PcapWriter } from '../src/pcap/pcap-writer.js'

const MSS = 1448

/** Writes a capture of `transactions` HTTP transactions to `path`; returns the packet count. */
export function generateHttpPcap(path: string, transactions: number, connections = 200): number {
  const w = new PcapWriter(FileSink.create(path), { linkType: 1, snaplen: 262144 })
  const frame = Buffer.alloc(14 + 20 + 20 + MSS)
  Buffer.from('020000000002020000000001', 'hex').copy(frame, 0)
  frame.writeUInt16BE(0x0800, 12)
  let usec = 0
  let sec = 1_700_000_000
  let packets = 0
  const emit = (c: Conn, fromClient: boolean, flags: number, payload: Buffer, off: number, len: number) => {
    frame[14] = 0x45
    frame.writeUInt16BE(40 + len, 16)
    frame.writeUInt16BE(packets & 0xffff, 18)
    frame.writeUInt16BE(0x4000, 20)
    frame[22] = 64; frame[23] = 6
    frame.writeUInt16BE(0, 24)
    frame.writeUInt32BE(fromClient ? c.client : 0x0a000001, 26)
    frame.writeUInt32BE(fromClient ? 0x0a000001 : c.client, 30)
    frame.writeUInt16BE(fromClient ? c.port : 80, 34)
    frame.writeUInt16BE(fromClient ? 80 : c.port, 36)
    frame.writeUInt32BE(fromClient ? c.cseq : c.sseq, 38)
    frame.writeUInt32BE(fromClient ? c.sseq : c.cseq, 42)
    frame[46] = 0x50; frame[47] = flags
    frame.writeUInt16BE(65535, 48)
    payload.copy(frame, 54, off, off + len)
    usec += 7
    if (usec >= 1e6) { sec++; usec -= 1e6 }
    w.writeRecord(frame, 0, 54 + len, 54 + len, sec, usec * 1000)
    packets++
    const adv = len + (flags & 0x03 ? 1 : 0)
    if (fromClient) c.cseq = (c.cseq + adv) >>> 0
    else c.sseq = (c.sseq + adv) >>> 0
  }
  const send = (c: Conn, fromClient: boolean, bytes: Buffer) => {
    for (let off = 0; off < bytes.length; off += MSS) emit(c, fromClient, 0x18, bytes, off, Math.min(MSS, bytes.length - off))
    emit(c, !fromClient, 0x10, bytes, 0, 0)
  }
  interface Conn { client: number; port: number; cseq: number; sseq: number; left: number }
  const open = (i: number): Conn => {
    const c = { client: 0x0b000000 + (i % 60000) + 1, port: 1024 + (i % 60000), cseq: (i * 7919) >>> 0, sseq: (i * 104729) >>> 0, left: 5 + (i % 20) }
    emit(c, true, 0x02, frame, 0, 0)
    emit(c, false, 0x12, frame, 0, 0)
    emit(c, true, 0x10, frame, 0, 0)
    return c
  }
  const bodies = [200, 1500, 5000, 20000, 64000].map((n) => Buffer.alloc(n, 0x61))
  let conns: Conn[] = []
  let opened = 0
  for (let t = 0; t < transactions; t++) {
    while (conns.length < connections) conns.push(open(opened++))
    const k = t % conns.length
    const c = conns[k]
    const uri = `/item/${t}?q=${t % 97}`
    send(c, true, Buffer.from(`GET ${uri} HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: gen/1.0\r\nAccept: */*\r\n\r\n`))
    const body = bodies[t % bodies.length]
    if (t % 3 === 0) {
      const head = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n')
      send(c, false, Buffer.concat([head, Buffer.from(body.length.toString(16) + '\r\n'), body, Buffer.from('\r\n0\r\n\r\n')]))
    } else {
      send(c, false, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\n\r\n`), body]))
    }
    if (--c.left === 0) {
      emit(c, true, 0x11, frame, 0, 0)
      emit(c, false, 0x11, frame, 0, 0)
      emit(c, true, 0x10, frame, 0, 0)
      conns = conns.filter((x) => x !== c)
    }
  }
  w.close()
  return packets
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2]
  if (!out) throw new Error('usage: gen-http.ts OUT.pcap [TRANSACTIONS]')
  console.log(`${generateHttpPcap(out, Number(process.argv[3] ?? 100_000))} packets`)
}
