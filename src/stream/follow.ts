/**
 * Follow: the data of one TCP stream, each direction reassembled, printed in the layouts of
 * `tshark -z follow,tcp,ascii|hex|raw,N`. Consecutive bytes from the same side form one chunk;
 * node 0 is the side that sent the stream's first packet, node 1's chunks are indented.
 */
import type { ConversationHandler } from './tcp-tracker.js'
import type { TcpConversation } from './tcp-conversations.js'

/** Output layouts of follow. */
export const FOLLOW_FORMATS = ['ascii', 'hex', 'raw'] as const
/** One of FOLLOW_FORMATS. */
export type FollowFormat = (typeof FOLLOW_FORMATS)[number]

/** Collects the chunks of one stream. */
export class FollowStream {
  conversation: TcpConversation | undefined
  /** Chunks in arrival order (one per segment's new data, as tshark shows them): sender and bytes. */
  readonly chunks: Array<{ node: 0 | 1; data: Buffer }> = []
  /** Bytes collected; capped so that following a huge stream stays bounded (the rest is counted). */
  bytes = 0
  dropped = 0

  constructor(readonly stream: number, private readonly maxBytes = 256 << 20) {}

  /** The handler to give a TcpTracker. */
  readonly handler: ConversationHandler = (conv) => {
    if (conv.index !== this.stream) return undefined
    this.conversation = conv
    const sink = (node: 0 | 1) => ({
      data: (d: Buffer, s: number, e: number) => {
        if (this.bytes + (e - s) > this.maxBytes) { this.dropped += e - s; return }
        this.chunks.push({ node, data: Buffer.from(d.subarray(s, e)) })
        this.bytes += e - s
      },
    })
    return { fromA: sink(0), fromB: sink(1) }
  }

  /** The follow output as tshark prints it. */
  format(format: FollowFormat): string {
    const c = this.conversation
    const bar = '==================================================================='
    let out = `\n${bar}\nFollow: tcp,${format}\nFilter: tcp.stream eq ${this.stream}\n`
    if (!c) return out + `Node 0: :0\nNode 1: :0\n${bar}\n` // tshark's output for a stream that is not there
    const node = (a: string, p: number) => `${a.includes(':') ? `[${a}]` : a}:${p}`
    out += `Node 0: ${node(c.addrA, c.portA)}\nNode 1: ${node(c.addrB, c.portB)}\n`
    const offsets = [0, 0]
    for (const chunk of this.chunks) {
      const data = chunk.data
      const indent = chunk.node === 1 ? '\t' : ''
      if (format === 'raw') out += indent + data.toString('hex') + '\n'
      else if (format === 'ascii') out += indent + `${data.length}\n` + asciiOf(data) + '\n'
      else out += hexLines(data, offsets[chunk.node], indent)
      offsets[chunk.node] += data.length
    }
    return out + `${bar}\n`
  }
}

/** Printable ASCII as tshark's follow shows it: other bytes (tabs too) as '.', CR and LF kept. */
function asciiOf(data: Buffer): string {
  let s = ''
  for (const b of data) s += b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f) ? String.fromCharCode(b) : '.'
  return s
}

/** tshark's follow hex layout: offset, 16 bytes in two groups of 8, the ASCII in two groups. */
function hexLines(data: Buffer, base: number, indent: string): string {
  let out = ''
  for (let i = 0; i < data.length; i += 16) {
    const row = data.subarray(i, Math.min(i + 16, data.length))
    let hex = ''
    let text = ''
    for (let j = 0; j < 16; j++) {
      if (j === 8) { hex += ' '; if (row.length > 8) text += ' ' }
      if (j < row.length) {
        hex += row[j].toString(16).padStart(2, '0') + ' '
        text += row[j] >= 0x20 && row[j] < 0x7f ? String.fromCharCode(row[j]) : '.'
      } else hex += '   '
    }
    // Offsets in upper case; a line that ends in a blank loses one, as tshark prints them.
    const line = `${indent}${(base + i).toString(16).toUpperCase().padStart(8, '0')}  ${hex} ${text}`
    out += (line.endsWith(' ') ? line.slice(0, -1) : line) + '\n'
  }
  return out
}
