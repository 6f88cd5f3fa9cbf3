/**
 * Row writers: one CSV row per packet, connection or HTTP transaction, in the staged columns of
 * src/export/schema.ts. Packet rows are written from the batch's bytes and the dissection
 * without a JS object per packet.
 */
import type { DissectedPacket } from '../dissect/dissected-packet.js'
import type { FieldSpec } from '../dissect/field-types.js'
import { InfoLine, putUint } from '../dissect/info-line.js'
import type { DissectorRegistry } from '../dissect/registry.js'
import { InvalidArgumentError } from '../errors.js'
import { putFieldValue } from '../format/field-bytes.js'
import type { RecordBatch } from '../pcap/record-batch.js'
import type { HttpTransaction } from '../stream/http-log.js'
import { addressText, type TcpSegmentReader } from '../stream/tcp-segment.js'
import { communityId } from './community-id.js'
import type { CsvStage } from './csv-stage.js'
import type { TrackedConn } from './flow-tracker.js'

/** Microseconds since the epoch of a (seconds, nanoseconds) time. */
function micros(sec: number, nsec: number): number {
  return sec * 1e6 + Math.floor(nsec / 1000)
}

/** An address written as text into the stage (dotted quad without a string for IPv4). */
function putAddress(stage: CsvStage, data: Uint8Array, off: number, len: number): void {
  if (len !== 4) return stage.str(addressText(data as Buffer, off, len), false)
  const buf = stage.open(15)
  let p = stage.pos
  for (let k = 0; k < 4; k++) {
    if (k > 0) buf[p++] = 0x2e
    p = putUint(buf, p, data[off + k])
  }
  stage.pos = p
}

/** Writes packet rows. */
export class PacketRows {
  /** What the engine must record for these rows. */
  readonly fieldIds: number[]
  private readonly extra: Array<{ id: number; spec: FieldSpec }>
  private readonly fallback: Record<'src' | 'dst' | 'src6' | 'dst6' | 'proto' | 'nxt', number>
  private readonly line = new InfoLine()

  constructor(private readonly registry: DissectorRegistry, extraFields: string[]) {
    const id = (name: string) => {
      const i = registry.fieldByName.get(name)
      if (i === undefined) throw new InvalidArgumentError(`unknown field '${name}' (netkit dissectors lists every field)`)
      return i
    }
    this.extra = extraFields.map((f) => ({ id: id(f), spec: registry.fields[id(f)] }))
    this.fallback = { src: id('ip.src'), dst: id('ip.dst'), src6: id('ipv6.src'), dst6: id('ipv6.dst'), proto: id('ip.proto'), nxt: id('ipv6.nxt') }
    this.fieldIds = [...this.extra.map((e) => e.id), ...Object.values(this.fallback)]
  }

  /** Record i's row; `seg` holds its transport header when `hasSeg`. */
  write(stage: CsvStage, batch: RecordBatch, i: number, packet: DissectedPacket | undefined, seg: TcpSegmentReader, hasSeg: boolean): void {
    const data = batch.data
    stage.int(micros(batch.tsSec[i], batch.tsNsec[i]))
    stage.int(batch.firstNumber + i)
    stage.int(batch.origLen[i])
    stage.int(batch.capLen[i])
    if (hasSeg) {
      putAddress(stage, data, seg.srcOffset, seg.addrLength)
      putAddress(stage, data, seg.dstOffset, seg.addrLength)
      stage.int(seg.sport)
      stage.int(seg.dport)
      stage.int(seg.proto)
    } else {
      const f = this.fallback
      this.value(stage, packet, packet?.occurrences.firstOf(f.src) !== -1 ? f.src : f.src6, data, false)
      this.value(stage, packet, packet?.occurrences.firstOf(f.dst) !== -1 ? f.dst : f.dst6, data, false)
      stage.nil()
      stage.nil()
      this.value(stage, packet, packet?.occurrences.firstOf(f.proto) !== -1 ? f.proto : f.nxt, data, false)
    }
    // Protocol names are identifiers (no comma, quote or line break): no quoting check.
    stage.str(packet?.protocolsText(), false)
    for (const e of this.extra) this.value(stage, packet, e.id, data, true)
    stage.end()
  }

  /** A field's occurrences as `-T fields` prints them (joined by ','), or NULL when absent. */
  private value(stage: CsvStage, packet: DissectedPacket | undefined, id: number, data: Buffer, all: boolean): void {
    const store = packet?.occurrences
    let k = store === undefined ? -1 : store.firstOf(id)
    if (k === -1) return stage.nil()
    const spec = this.registry.fields[id]
    const line = this.line
    line.pos = 0
    putFieldValue(line, spec, store!, k, data)
    if (all) {
      for (k = store!.next[k]; k !== -1; k = store!.next[k]) {
        line.char(0x2c)
        putFieldValue(line, spec, store!, k, data)
      }
    }
    let plain = line.pos > 0
    for (let p = 0; p < line.pos && plain; p++) {
      const b = line.buf[p]
      if (b === 0x2c || b === 0x22 || b === 0x0a || b === 0x0d) plain = false
    }
    if (plain) stage.bytes(line.buf, 0, line.pos)
    else stage.str(line.buf.toString('utf8', 0, line.pos))
  }
}

/** Writes a finished connection's conn.log row. */
export function writeFlowRow(stage: CsvStage, t: TrackedConn): void {
  const c = t.conn
  const n = c.origAddr.length
  stage.int(micros(c.firstSec, c.firstNsec))
  stage.str(t.uid, false)
  stage.str(communityId({ src: c.origAddr, dst: c.respAddr, proto: c.proto, sport: c.origPort, dport: c.respPort }), false)
  putAddress(stage, c.origAddr, 0, n)
  stage.int(c.origPort)
  putAddress(stage, c.respAddr, 0, n)
  stage.int(c.respPort)
  stage.str(c.proto === 6 ? 'tcp' : 'udp', false)
  stage.str(c.service === '' ? undefined : c.service, false)
  stage.num((c.lastSec - c.firstSec) + (c.lastNsec - c.firstNsec) / 1e9)
  stage.int(c.orig.size(c.proto))
  stage.int(c.resp.size(c.proto))
  stage.str(c.connState(), false)
  stage.int(c.orig.missed + c.resp.missed)
  stage.str(c.history)
  stage.int(c.orig.pkts)
  stage.int(c.orig.ipBytes)
  stage.int(c.resp.pkts)
  stage.int(c.resp.ipBytes)
  stage.end()
}

/** "addr:port" or "[v6]:port" split into address and port. */
function endpoint(s: string): [string, number] {
  const i = s.lastIndexOf(':')
  const host = s.slice(0, i)
  return [host.startsWith('[') ? host.slice(1, -1) : host, Number(s.slice(i + 1))]
}

/** Writes an HTTP transaction's http.log row; `uid` and `depth` come from its connection. */
export function writeHttpRow(stage: CsvStage, t: HttpTransaction, uid: string | undefined, depth: number): void {
  const q = t.request
  const r = t.response
  const [oh, op] = endpoint(t.client)
  const [rh, rp] = endpoint(t.server)
  stage.int(Math.round(q.firstTime * 1e6))
  stage.str(uid, false)
  stage.str(oh, false)
  stage.int(op)
  stage.str(rh, false)
  stage.int(rp)
  stage.int(depth)
  stage.str(q.method)
  stage.str(q.host || undefined)
  stage.str(q.uri)
  stage.str(q.version.replace(/^HTTP\//, '') || undefined)
  stage.str(q.userAgent || undefined)
  stage.int(q.bodyBytes)
  if (r) stage.int(r.bodyBytes)
  else stage.nil()
  if (r) stage.int(r.status)
  else stage.nil()
  stage.str(r?.phrase)
  if (t.interim > 0) stage.int(t.interim)
  else stage.nil()
  stage.str(r?.contentType || undefined)
  stage.end()
}
