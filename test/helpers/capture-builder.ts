/**
 * Builders for small pcap and pcapng files with exactly the blocks a test needs (hand-made
 * damage, unusual resolutions, big-endian sections). tshark is the oracle for what they hold.
 */

/** Pads to a multiple of 4. */
function pad4(b: Buffer): Buffer {
  const n = (b.length + 3) & ~3
  return n === b.length ? b : Buffer.concat([b, Buffer.alloc(n - b.length)])
}

/** One pcapng option (code, value), padded. */
export function option(code: number, value: Buffer, le = true): Buffer {
  const h = Buffer.alloc(4)
  if (le) { h.writeUInt16LE(code, 0); h.writeUInt16LE(value.length, 2) } else { h.writeUInt16BE(code, 0); h.writeUInt16BE(value.length, 2) }
  return Buffer.concat([h, pad4(value)])
}

/** A whole pcapng block of `type` around `body` (padded). */
export function block(type: number, body: Buffer, le = true): Buffer {
  const b = pad4(body)
  const total = 12 + b.length
  const out = Buffer.alloc(total)
  if (le) { out.writeUInt32LE(type, 0); out.writeUInt32LE(total, 4); out.writeUInt32LE(total, total - 4) } else { out.writeUInt32BE(type, 0); out.writeUInt32BE(total, 4); out.writeUInt32BE(total, total - 4) }
  b.copy(out, 8)
  return out
}

/** A section header block. */
export function shb(le = true): Buffer {
  const b = Buffer.alloc(16)
  if (le) { b.writeUInt32LE(0x1a2b3c4d, 0); b.writeUInt16LE(1, 4); b.writeUInt16LE(0, 6) } else { b.writeUInt32BE(0x1a2b3c4d, 0); b.writeUInt16BE(1, 4); b.writeUInt16BE(0, 6) }
  b.fill(0xff, 8, 16)
  return block(0x0a0d0d0a, b, le)
}

/** An interface description block; `tsresol` is the raw if_tsresol byte when given. */
export function idb(linkType: number, snaplen: number, tsresol?: number, le = true): Buffer {
  const h = Buffer.alloc(8)
  if (le) { h.writeUInt16LE(linkType, 0); h.writeUInt32LE(snaplen, 4) } else { h.writeUInt16BE(linkType, 0); h.writeUInt32BE(snaplen, 4) }
  const opts = tsresol === undefined ? [] : [option(9, Buffer.from([tsresol]), le), Buffer.alloc(4)]
  return block(1, Buffer.concat([h, ...opts]), le)
}

/** An enhanced packet block with a 64-bit timestamp in the interface's units. */
export function epb(iface: number, ts: bigint, data: Buffer, origLen = data.length, le = true): Buffer {
  const h = Buffer.alloc(20)
  const hi = Number(ts >> 32n)
  const lo = Number(ts & 0xffffffffn)
  if (le) { h.writeUInt32LE(iface, 0); h.writeUInt32LE(hi, 4); h.writeUInt32LE(lo, 8); h.writeUInt32LE(data.length, 12); h.writeUInt32LE(origLen, 16) } else { h.writeUInt32BE(iface, 0); h.writeUInt32BE(hi, 4); h.writeUInt32BE(lo, 8); h.writeUInt32BE(data.length, 12); h.writeUInt32BE(origLen, 16) }
  return block(6, Buffer.concat([h, data]), le)
}

/** A classic pcap file header. */
export function pcapHeader(linkType = 1, snaplen = 65535, nano = false): Buffer {
  const b = Buffer.alloc(24)
  b.writeUInt32LE(nano ? 0xa1b23c4d : 0xa1b2c3d4, 0)
  b.writeUInt16LE(2, 4); b.writeUInt16LE(4, 6)
  b.writeUInt32LE(snaplen, 16); b.writeUInt32LE(linkType, 20)
  return b
}

/** A classic pcap record. */
export function pcapRecord(sec: number, frac: number, data: Buffer, origLen = data.length, capLenOverride?: number): Buffer {
  const h = Buffer.alloc(16)
  h.writeUInt32LE(sec, 0); h.writeUInt32LE(frac, 4); h.writeUInt32LE(capLenOverride ?? data.length, 8); h.writeUInt32LE(origLen, 12)
  return Buffer.concat([h, data])
}

/** A 60-byte Ethernet/IPv4/UDP frame whose payload carries `n`, so frames are told apart. */
export function frame(n: number): Buffer {
  const f = Buffer.alloc(60)
  Buffer.from('ffffffffffff020000000001', 'hex').copy(f, 0)
  f.writeUInt16BE(0x0800, 12)
  f[14] = 0x45; f.writeUInt16BE(46, 16); f[22] = 64; f[23] = 17
  Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]).copy(f, 26)
  f.writeUInt16BE(5000, 34); f.writeUInt16BE(5001, 36); f.writeUInt16BE(26, 38)
  f.writeUInt32BE(n, 42)
  return f
}
