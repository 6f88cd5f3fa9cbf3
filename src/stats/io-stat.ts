/**
 * `io,stat,INTERVAL[,FILTER...]` (tshark's ui/cli/tap-iostat.c): frames and bytes per interval,
 * one column per filter (no filter: every frame). Intervals start at the capture's first packet;
 * a packet at relative time t falls in interval floor(t / INTERVAL), computed in integer
 * nanoseconds so that a boundary packet lands where tshark puts it. An INTERVAL of 0, or one
 * longer than the capture, is one row over the whole capture.
 */
import type { CompiledDisplayFilter } from '../dfilter/index.js'
import type { DissectedPacket } from '../dissect/dissected-packet.js'
import { InvalidArgumentError } from '../errors.js'
import type { CaptureSpan, PacketTime, StatsTap } from './tap.js'

/** Parses INTERVAL (seconds, up to microseconds): its nanoseconds and its decimals. */
export function parseInterval(text: string): { ns: number; decimals: number } {
  const m = /^(\d*)(?:\.(\d{0,6}))?$/.exec(text)
  if (!m || text === '' || text === '.') throw new InvalidArgumentError(`io,stat: the interval must be a number of seconds with at most 6 decimals (got '${text}')`)
  const decimals = (m[2] ?? '').replace(/0+$/, '').length
  return { ns: Number(m[1] || '0') * 1e9 + Number((m[2] ?? '').padEnd(9, '0') || '0'), decimals }
}

/** Rows kept at most (a capture with a bogus timestamp can span decades). */
const MAX_ROWS = 1_000_000

/** One row: frames and bytes per column. */
interface Row { frames: number[]; bytes: number[] }

/** The io,stat table of one run. */
export class IoStatTap implements StatsTap {
  readonly fields: string[] = []
  readonly intervalNs: number
  readonly decimals: number
  /** Rows by interval index (grown as packets arrive). */
  private readonly rows: Row[] = []
  /** The last packet's offset from the first, in nanoseconds. */
  private lastNs = 0

  constructor(readonly spec: string, interval: string, readonly columns: Array<{ text: string; filter?: CompiledDisplayFilter }>) {
    const { ns, decimals } = parseInterval(interval)
    this.intervalNs = ns
    this.decimals = decimals
  }

  /** The columns' filters (the run records their fields). */
  get filters(): CompiledDisplayFilter[] {
    return this.columns.flatMap((c) => c.filter ? [c.filter] : [])
  }

  add(p: DissectedPacket, time: PacketTime): void {
    const ns = (p.sec - time.firstSec) * 1e9 + (p.nsec - time.firstNsec)
    if (ns > this.lastNs) this.lastNs = ns
    const i = this.intervalNs === 0 ? 0 : Math.floor(Math.max(0, ns) / this.intervalNs)
    if (i >= MAX_ROWS) throw new InvalidArgumentError(`io,stat: an interval of ${this.intervalNs / 1e9} s makes more than ${MAX_ROWS} rows over this capture; give a longer one`)
    while (this.rows.length <= i) this.rows.push({ frames: new Array(this.columns.length).fill(0), bytes: new Array(this.columns.length).fill(0) })
    const row = this.rows[i]
    for (let c = 0; c < this.columns.length; c++) {
      const f = this.columns[c].filter
      if (f !== undefined && !f.match(p)) continue
      row.frames[c]++
      row.bytes[c] += p.origLen
    }
  }

  /** The rows with their bounds (seconds), the last one ending at the capture's end. */
  table(span: CaptureSpan): { interval: number; decimals: number; rows: Array<{ start: number; end: number } & Row> } {
    const durNs = Math.round(span.duration * 1e9)
    const whole = this.intervalNs === 0 || this.intervalNs > durNs
    // tshark: one row over the whole capture, to 3 decimals under 10 s, else to 1 decimal.
    const decimals = whole ? (durNs >= 10e9 ? 1 : 3) : this.decimals
    const step = whole ? durNs : this.intervalNs
    const empty = (): Row => ({ frames: new Array(this.columns.length).fill(0), bytes: new Array(this.columns.length).fill(0) })
    const rows = whole
      ? [this.rows.reduce((acc, r) => ({ frames: acc.frames.map((v, c) => v + r.frames[c]), bytes: acc.bytes.map((v, c) => v + r.bytes[c]) }), empty())]
      : this.rows.map((r) => r ?? empty())
    return {
      interval: step / 1e9,
      decimals,
      // tshark prints no rows for a capture of no duration (one packet, or all at one instant).
      rows: durNs === 0 ? [] : rows.map((r, i) => ({ start: (i * step) / 1e9, end: Math.min((i + 1) * step, durNs) / 1e9, ...r })),
    }
  }

  text(span: CaptureSpan): string {
    const t = this.table(span)
    // tshark pads times to the capture duration's digits (at most 5); with whole-second
    // intervals it prints the duration to the microsecond and ends the last row at "Dur".
    const whole = t.rows.length === 1 && t.interval === span.duration
    const w = Math.min(5, String(Math.floor(span.duration)).length) + (t.decimals > 0 ? t.decimals + 1 : 0)
    const fix = (v: number) => v.toFixed(t.decimals).padStart(w)
    const labels = t.rows.map((r, i) => `${fix(r.start)} <> ${t.decimals === 0 && !whole && i === t.rows.length - 1 ? 'Dur'.padStart(w) : fix(r.end)}`)
    const labelW = Math.max(12, ...labels.map((l) => l.length + 2))
    const widths = this.columns.map((_, c) => ({
      frames: Math.max(6, ...t.rows.map((r) => String(r.frames[c]).length)),
      bytes: Math.max(5, ...t.rows.map((r) => String(r.bytes[c]).length)),
    }))
    const colW = widths.map((w) => w.frames + w.bytes + 5)
    const tableW = 1 + labelW + colW.reduce((a, w) => a + w, 0) + this.columns.length
    const filterLines = this.columns.length === 1 && this.columns[0].filter === undefined
      ? ['Col 1: Frames and bytes']
      : this.columns.map((c, i) => `${i === 0 ? 'Col ' : '    '}${i + 1}: ${c.filter ? c.text : 'Frames and bytes'}`)
    const border = Math.max(tableW, ...filterLines.map((l) => l.length + 4), 36)
    const line = (s: string) => `|${s.padEnd(border - 2)}|\n`
    const center = (s: string, w: number) => ' '.repeat(Math.floor((w - s.length) / 2)) + s + ' '.repeat(Math.ceil((w - s.length) / 2))
    let out = `\n${'='.repeat(border)}\n${line(' IO Statistics')}${line('')}`
    out += line(` Duration: ${span.duration.toFixed(t.decimals === 0 ? 6 : t.decimals)} secs`)
    out += line(` Interval: ${t.interval.toFixed(t.decimals)} secs`)
    out += line('')
    for (const l of filterLines) out += line(` ${l}`)
    const rule = `|${'-'.repeat(border - 2)}|\n`
    out += rule
    out += `|${' '.repeat(labelW)}|` + colW.map((w, c) => String(c + 1).padEnd(w)).join('|') + '|\n'
    out += `|${' Interval'.padEnd(labelW)}|` + widths.map((w) => ` ${center('Frames', w.frames)} | ${center('Bytes', w.bytes)} `).join('|') + '|\n'
    out += rule
    t.rows.forEach((r, i) => {
      out += `| ${labels[i].padEnd(labelW - 2)} |` + widths.map((w, c) => ` ${String(r.frames[c]).padStart(w.frames)} | ${String(r.bytes[c]).padStart(w.bytes)} `).join('|') + '|\n'
    })
    return out + `${'='.repeat(border)}\n`
  }

  json(span: CaptureSpan): unknown {
    const t = this.table(span)
    return {
      duration: span.duration, interval: t.interval,
      columns: this.columns.map((c) => c.filter ? c.text : null),
      rows: t.rows.map((r) => ({ start: r.start, end: r.end, frames: r.frames, bytes: r.bytes })),
    }
  }
}
