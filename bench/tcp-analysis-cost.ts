/**
 * What plugins/tcp's sequence analysis costs per segment, alone: the TCP segments of
 * bench/read-real's capture (wrk against nginx) are looked up in a TcpConversations once, then
 * replayed into TcpAnalysis.analyze() in flags-only mode (no tcp.analysis field shown, as when
 * the analysis only decides which retransmitted bytes go up to HTTP or TLS), pass after pass.
 * Each pass starts from fresh state. With --baseline DIR, the TcpAnalysis of another built
 * checkout runs in the same process, passes alternating. It prints ns per segment beyond the same
 * loop without analyze(): the minimum and the median of the passes after the first 10.
 *
 *   node --import tsx bench/tcp-analysis-cost.ts [--packets 200000] [--passes 50] [--baseline DIR]
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { root } from '../test/helpers/cli.js'
import { ByteView } from '../src/dissect/byte-view.js'
import { TcpConversations, type TcpConversation, type TcpSegmentFacts } from '../src/stream/tcp-conversations.js'
import { arg, median } from './lib/measure.js'
import { realCaptureMissing, realFile } from './lib/real-capture.js'

const packets = Number(arg('--packets', '200000'))
const passes = Math.max(12, Number(arg('--passes', '50')))
const baseline = arg('--baseline', '')
if (realCaptureMissing().length > 0) {
  console.log('bench/tcp-analysis-cost needs tcpdump, wrk and nginx (for the capture); skipped')
  process.exit(0)
}
const file = await realFile(packets)

/** The segments, at most 100k: header bytes copied side by side (the file's cache misses are not the analysis'). */
const MAX = 100_000
const HEAD = 64
const buf = readFileSync(file)
const data = Buffer.alloc(MAX * HEAD)
const cap = new Int32Array(MAX), rep = new Int32Array(MAX), sec = new Float64Array(MAX), nsec = new Float64Array(MAX)
const conv: TcpConversation[] = [], fromA = new Uint8Array(MAX), reused = new Uint8Array(MAX), base = new Float64Array(MAX)
const table = new TcpConversations({ retain: false })
const facts: TcpSegmentFacts = { srcOffset: 0, dstOffset: 0, addrLength: 4, sport: 0, dport: 0, seq: 0, ack: 0, flags: 0, frame: 0, sec: 0, nsec: 0, wireLength: 0, payloadLength: 0 }
let n = 0
// Classic pcap, Ethernet, IPv4, TCP: what bench/lib/real-capture.ts records.
for (let p = 24; p + 16 <= buf.length && n < MAX;) {
  const incl = buf.readUInt32LE(p + 8)
  const ip = p + 30, ihl = (buf[ip] & 15) * 4, tcp = ip + ihl
  cap[n] = Math.min(HEAD, incl - 14 - ihl)
  rep[n] = buf.readUInt16BE(ip + 2) - ihl
  sec[n] = buf.readUInt32LE(p)
  nsec[n] = buf.readUInt32LE(p + 4) * 1000
  buf.copy(data, n * HEAD, tcp, tcp + cap[n])
  const hl = (buf[tcp + 12] >> 4) * 4
  Object.assign(facts, { srcOffset: ip + 12, dstOffset: ip + 16, sport: buf.readUInt16BE(tcp), dport: buf.readUInt16BE(tcp + 2), seq: buf.readUInt32BE(tcp + 4), ack: buf.readUInt32BE(tcp + 8), flags: buf[tcp + 13], frame: n + 1, sec: sec[n], nsec: nsec[n], payloadLength: Math.max(0, rep[n] - hl) })
  const place = table.lookup(buf, facts)
  conv.push(place.conversation)
  fromA[n] = place.fromA ? 1 : 0
  reused[n] = place.reused ? 1 : 0
  base[n] = place.fromA ? place.conversation.ab.base : place.conversation.ba.base
  n++
  p += 16 + incl
}

interface Analysis { wants(ctx: unknown, f: unknown): boolean; analyze(...args: unknown[]): number }
/**
 * One pass over the segments through `analysis` (undefined: the loop alone). A checkout from
 * before the segment facts were passed whole takes the numbers one by one (13 parameters).
 * Each variant gets its own copy of this function (new Function), so V8's feedback is its own.
 */
function makePass(Analysis: (new () => Analysis) | undefined): () => number {
  const ctx = { frame: 0, sec: 0, nsec: 0, quoted: false, wants: () => false }
  const oneByOne = Analysis !== undefined && Analysis.prototype.analyze.length === 13
  const call = Analysis === undefined ? 'sum += payload + view.u16(14)'
    : oneByOne ? 'sum += run.analyze(ctx, f, view, place.conversation, place.fromA, place.reused, base[i], s.seq, s.ack, s.flags, view.u16(14), payload, hl)'
      : 'sum += run.analyze(ctx, f, view, place, s, payload, hl)'
  const body = `
    const run = Analysis === undefined ? undefined : new Analysis()
    run?.wants(ctx, f)
    const fresh = new Map()
    const own = conv.map((c) => { let o = fresh.get(c); if (o === undefined) fresh.set(c, o = { state: undefined, ab: c.ab, ba: c.ba }); return o })
    let sum = 0
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) {
      view.set(data, i * ${HEAD}, cap[i], rep[i])
      const hl = (view.u8(12) >> 4) * 4
      const payload = Math.max(0, view.reported - hl)
      ctx.frame = s.frame = i + 1; ctx.sec = s.sec = sec[i]; ctx.nsec = s.nsec = nsec[i]
      s.seq = view.u32(4); s.ack = view.u32(8); s.flags = view.u8(13); s.payloadLength = payload
      place.conversation = own[i]; place.fromA = fromA[i] === 1; place.reused = reused[i] === 1
      ${call}
    }
    return Number(process.hrtime.bigint() - t0) / n + (sum === -1 ? 1 : 0)`
  const pass = new Function('Analysis', 'ctx', 'f', 'view', 's', 'place', 'data', 'cap', 'rep', 'sec', 'nsec', 'conv', 'fromA', 'reused', 'base', 'n', body)
  const s = { ...facts }, place = { conversation: conv[0], fromA: true, reused: false, seen: 0 }, view = new ByteView()
  return () => pass(Analysis, ctx, {}, view, s, place, data, cap, rep, sec, nsec, conv, fromA, reused, base, n) as number
}

const load = async (dir: string) => ((await import(pathToFileURL(join(dir, 'plugins', 'tcp', 'analysis.js')).href)) as { TcpAnalysis: new () => Analysis }).TcpAnalysis
const variants = [{ label: 'this tree', pass: makePass(await load(root)), ns: [] as number[] }]
if (baseline) variants.push({ label: baseline, pass: makePass(await load(baseline)), ns: [] })
const loop = { label: 'loop alone', pass: makePass(undefined), ns: [] as number[] }
const all = [...variants, loop]
for (let r = 0; r < passes; r++) for (const v of r % 2 === 0 ? all : [...all].reverse()) v.ns.push(v.pass())
const settled = (ns: number[]) => ns.slice(10)
const loopMin = Math.min(...settled(loop.ns)), loopMedian = median(settled(loop.ns))!
console.log(`${n} TCP segments of ${file}, ${passes} passes, variants alternating (the machine may be shared)`)
console.log(`loop alone: ${loopMin.toFixed(1)} ns/segment (median ${loopMedian.toFixed(1)})`)
for (const v of variants) {
  const min = Math.min(...settled(v.ns)) - loopMin, med = median(settled(v.ns))! - loopMedian
  console.log(`${v.label}: analyze() ${min.toFixed(1)} ns/segment (median ${med.toFixed(1)})`)
}
