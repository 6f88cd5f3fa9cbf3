/**
 * The conversation table of `netkit streams`, in the layout of `tshark -z conv,tcp` (sorted as
 * tshark sorts: by total frames, descending, ties in stream order) or as JSON.
 */
import type { TcpConversation } from './tcp-conversations.js'

/** tshark's byte counts: "N bytes" below 10 kB, then kB/MB/GB rounded. */
export function bytesText(n: number): string {
  if (n < 10000) return `${n} bytes`
  const units = ['kB', 'MB', 'GB', 'TB']
  let v = n
  let u = -1
  // tshark divides with integer arithmetic: 10774 bytes is "10 kB".
  while (v >= 10000 && u < units.length - 1) { v = Math.floor(v / 1000); u++ }
  return `${v} ${units[u]}`
}

function endpoint(addr: string, port: number): string {
  return `${addr}:${port}`
}

/** Seconds from (s0, n0) to (s, n), printed with nine decimals, exactly. */
export function relative(s: number, n: number, s0: number, n0: number): string {
  const ns = (s - s0) * 1e9 + (n - n0)
  return `${Math.floor(ns / 1e9)}.${String(ns % 1e9).padStart(9, '0')}`
}

/**
 * Seconds from (s0, n0) to (s, n) as a double the way Wireshark's nstime_to_sec makes it (whole
 * seconds plus nanoseconds / 1e9 of the exact difference): durations are differences of these,
 * so they round as tshark's do.
 */
export function relativeSeconds(s: number, n: number, s0: number, n0: number): number {
  const ns = (s - s0) * 1e9 + (n - n0)
  const whole = Math.floor(ns / 1e9)
  return whole + (ns - whole * 1e9) / 1e9
}

/** The table as tshark -q -z conv,tcp prints it; (startSec, startNsec) is the capture's first timestamp. */
export function conversationTable(convs: readonly TcpConversation[], startSec: number, startNsec: number): string {
  // Most frames first; ties keep stream order (Array.prototype.sort is stable).
  const rows = [...convs].sort((x, y) => (y.ab.packets + y.ba.packets) - (x.ab.packets + x.ba.packets))
  const bar = '================================================================================'
  let out = `${bar}\nTCP Conversations\nFilter:<No Filter>\n`
  out += '                                                           |       <-      | |       ->      | |     Total     |    Relative    |   Duration   |\n'
  out += '                                                           | Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |\n'
  for (const c of rows) {
    const left = endpoint(c.addrA, c.portA).padEnd(26) + ' <-> ' + endpoint(c.addrB, c.portB).padEnd(26)
    const cell = (frames: number, bytes: number) => `${String(frames).padStart(8)} ${bytesText(bytes).padEnd(9)}`
    out += `${left}${cell(c.ba.packets, c.ba.bytes)}${cell(c.ab.packets, c.ab.bytes)}${cell(c.ab.packets + c.ba.packets, c.ab.bytes + c.ba.bytes)}` +
      `${relative(c.firstSec, c.firstNsec, startSec, startNsec).padStart(16)}${(relativeSeconds(c.lastSec, c.lastNsec, startSec, startNsec) - relativeSeconds(c.firstSec, c.firstNsec, startSec, startNsec)).toFixed(4).padStart(15)}\n`
  }
  return out + `${bar}\n`
}

/** One conversation as a JSON object. */
export function conversationJson(c: TcpConversation): Record<string, unknown> {
  return {
    stream: c.index,
    a: { address: c.addrA, port: c.portA }, b: { address: c.addrB, port: c.portB },
    a_to_b: { frames: c.ab.packets, bytes: c.ab.bytes, payload_bytes: c.ab.payloadBytes, syn: c.ab.syn, fin: c.ab.fin, rst: c.ab.rst },
    b_to_a: { frames: c.ba.packets, bytes: c.ba.bytes, payload_bytes: c.ba.payloadBytes, syn: c.ba.syn, fin: c.ba.fin, rst: c.ba.rst },
    start: c.firstTime, duration: c.lastTime - c.firstTime,
    first_frame: c.firstFrame, last_frame: c.lastFrame,
    closed: (c.ab.fin && c.ba.fin) || c.ab.rst || c.ba.rst,
  }
}
