/** Hand-made Ethernet/IPv4/TCP frames for stream-tracking tests. */

function checksum(b: Buffer): number {
  let s = 0
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i)
  if (b.length % 2) s += b[b.length - 1] << 8
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16)
  return ~s & 0xffff
}

/** An Ethernet/IPv4/TCP frame (valid IP and TCP checksums). */
export function tcpFrame(src: number[], dst: number[], sport: number, dport: number, seq: number, ack: number, flags: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const tcp = Buffer.alloc(20 + payload.length)
  tcp.writeUInt16BE(sport, 0); tcp.writeUInt16BE(dport, 2)
  tcp.writeUInt32BE(seq >>> 0, 4); tcp.writeUInt32BE(ack >>> 0, 8)
  tcp[12] = 0x50; tcp[13] = flags; tcp.writeUInt16BE(65535, 14)
  payload.copy(tcp, 20)
  const pseudo = Buffer.concat([Buffer.from(src), Buffer.from(dst), Buffer.from([0, 6]), Buffer.from([tcp.length >> 8, tcp.length & 0xff]), tcp])
  tcp.writeUInt16BE(checksum(pseudo), 16)
  const ip = Buffer.alloc(20)
  ip[0] = 0x45; ip.writeUInt16BE(20 + tcp.length, 2); ip.writeUInt16BE(1, 4); ip[8] = 64; ip[9] = 6
  Buffer.from(src).copy(ip, 12); Buffer.from(dst).copy(ip, 16)
  ip.writeUInt16BE(checksum(ip), 10)
  const eth = Buffer.from('020000000002020000000001' + '0800', 'hex')
  return Buffer.concat([eth, ip, tcp])
}

export const A = [10, 0, 0, 1]
export const B = [10, 0, 0, 2]
export const F = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, SA: 0x12, FA: 0x11, PA: 0x18 }

/** Port-reuse and mid-stream scenarios whose tcp.stream numbering tshark decides. */
export const streamScenarios: Record<string, Buffer[]> = {
  synDifferentSeqWhileOpen: [tcpFrame(A, B, 1000, 80, 100, 0, F.SYN), tcpFrame(B, A, 80, 1000, 500, 101, F.SA), tcpFrame(A, B, 1000, 80, 101, 501, F.ACK), tcpFrame(A, B, 1000, 80, 9000, 0, F.SYN)],
  synRetransmitted: [tcpFrame(A, B, 1000, 80, 100, 0, F.SYN), tcpFrame(A, B, 1000, 80, 100, 0, F.SYN), tcpFrame(B, A, 80, 1000, 500, 101, F.SA)],
  midstreamThenSyn: [tcpFrame(A, B, 1000, 80, 100, 0, F.ACK), tcpFrame(A, B, 1000, 80, 5000, 0, F.SYN)],
  midstreamThenSynSeqMinus1: [tcpFrame(A, B, 1000, 80, 100, 0, F.ACK), tcpFrame(A, B, 1000, 80, 99, 0, F.SYN)],
  finThenNewSyn: [tcpFrame(A, B, 1000, 80, 100, 0, F.SYN), tcpFrame(B, A, 80, 1000, 500, 101, F.SA), tcpFrame(A, B, 1000, 80, 101, 501, F.FA), tcpFrame(B, A, 80, 1000, 501, 102, F.FA), tcpFrame(A, B, 1000, 80, 102, 502, F.ACK), tcpFrame(A, B, 1000, 80, 7777, 0, F.SYN), tcpFrame(B, A, 80, 1000, 900, 7778, F.SA)],
  reverseSyn: [tcpFrame(A, B, 1000, 80, 100, 0, F.SYN), tcpFrame(B, A, 80, 1000, 500, 101, F.SA), tcpFrame(B, A, 80, 1000, 3000, 0, F.SYN)],
  synAckDifferent: [tcpFrame(A, B, 1000, 80, 100, 0, F.SYN), tcpFrame(B, A, 80, 1000, 500, 101, F.SA), tcpFrame(A, B, 1000, 80, 101, 501, F.ACK), tcpFrame(B, A, 80, 1000, 800, 101, F.SA)],
  ackSetsOtherBase: [tcpFrame(A, B, 1000, 80, 100, 1000, F.ACK), tcpFrame(B, A, 80, 1000, 999, 0, F.SYN), tcpFrame(B, A, 80, 1000, 1000, 0, F.SYN)],
  rstFirst: [tcpFrame(A, B, 1000, 80, 100, 0, F.RST), tcpFrame(B, A, 80, 1000, 1000, 0, F.SYN), tcpFrame(A, B, 1000, 80, 100, 0, F.SYN)],
  seqWrap: [tcpFrame(A, B, 1000, 80, 0xffffffff, 0, F.SYN), tcpFrame(B, A, 80, 1000, 0, 0, F.SA), tcpFrame(A, B, 1000, 80, 0, 1, F.ACK), tcpFrame(A, B, 1000, 80, 0xffffffff, 0, F.SYN), tcpFrame(A, B, 1000, 80, 5, 0, F.SYN)],
  manyPortsInterleaved: Array.from({ length: 40 }, (_, i) => tcpFrame(i % 2 ? A : B, i % 2 ? B : A, i % 2 ? 2000 + (i % 7) : 443, i % 2 ? 443 : 2000 + (i % 7), i % 5 === 0 ? i * 1000 : 1, 0, i % 5 === 0 ? F.SYN : F.ACK)),
}
