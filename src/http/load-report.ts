/**
 * The load generator's report: a JSON document for scripts (`--json`) and the same figures as
 * aligned text for people. Latency is in microseconds, from the HDR-style histogram.
 */
import type { LoadResult } from './load-generator.js'
import type { WireReport } from './wire-capture.js'

/** The report as plain data (what `--json` prints). */
export interface LoadReport {
  url: string
  method: string
  connections: number
  pipeline: number
  workers: number
  durationSec: number
  /** With --warmup: how long the target was loaded first, on the same connections, not counted. */
  warmupSec?: number
  requests: number
  ok: number
  errors: number
  /** Requests abandoned in flight when the duration ended (sent, not counted). */
  inFlightAtEnd: number
  requestsPerSec: number
  latencyUs: { min: number; mean: number; p50: number; p90: number; p99: number; p999: number; max: number }
  /** Bytes written and read, response body bytes, and the socket reads that returned data. */
  bytes: { sent: number; received: number; body: number; reads: number }
  status: Record<string, number>
  errorKinds: Record<string, number>
  connectionStats: {
    dialed: number
    connected: number
    dialFailures: number
    reused: number
    fresh: number
    retried: number
    closed: Record<string, number>
  }
  /** For https: handshakes, resumptions, versions, ciphers, handshake time percentiles (ms). */
  tls?: { handshakes: number; resumed: number; versions: Record<string, number>; ciphers: Record<string, number>; handshakeMs: { p50: number; p99: number } }
  /** With --capture: what the capture saw on the wire (SYNs beside connectionStats.dialed). */
  wire?: WireReport
}

/** Builds the report of a finished run. */
export function buildReport(result: LoadResult, info: { url: string; method: string; connections: number; pipeline: number }, wire?: WireReport): LoadReport {
  const h = result.latency
  const requests = result.ok + result.errorCount
  const seconds = result.durationMs / 1000
  const status: Record<string, number> = {}
  for (const [code, n] of [...result.statuses].sort((a, b) => a[0] - b[0])) status[String(code)] = n
  const errorKinds: Record<string, number> = {}
  for (const [kind, n] of [...result.errors].sort((a, b) => b[1] - a[1])) errorKinds[kind] = n
  const t = result.transport.toJSON() as { closed: Record<string, number> }
  return {
    url: info.url,
    method: info.method,
    connections: info.connections,
    pipeline: info.pipeline,
    workers: result.workers,
    durationSec: round(seconds, 3),
    ...(result.warmupMs > 0 ? { warmupSec: round(result.warmupMs / 1000, 3) } : {}),
    requests,
    ok: result.ok,
    errors: result.errorCount,
    inFlightAtEnd: result.inFlightAtEnd,
    requestsPerSec: seconds > 0 ? round(requests / seconds, 1) : 0,
    latencyUs: {
      min: h.total > 0 ? h.min : 0,
      mean: Math.round(h.mean()),
      p50: h.percentile(50),
      p90: h.percentile(90),
      p99: h.percentile(99),
      p999: h.percentile(99.9),
      max: h.max,
    },
    bytes: { sent: result.transport.bytesSent - result.warmupBytes.sent, received: result.transport.bytesReceived - result.warmupBytes.received, body: result.bodyBytes, reads: result.transport.reads - result.warmupBytes.reads },
    status,
    errorKinds,
    connectionStats: {
      dialed: result.transport.dials,
      connected: result.transport.connected,
      dialFailures: result.transport.dialFailures,
      reused: result.transport.reused,
      fresh: result.transport.fresh,
      retried: result.transport.retried,
      closed: t.closed,
    },
    ...(result.tls === undefined ? {} : { tls: result.tls.toJSON() as NonNullable<LoadReport['tls']> }),
    ...(wire === undefined ? {} : { wire }),
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(v * f) / f
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}

function list(record: Record<string, number>): string {
  const entries = Object.entries(record)
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k} ${v}`).join(', ')
}

/** The report as text lines. */
export function formatReport(r: LoadReport): string {
  const l = r.latencyUs
  const c = r.connectionStats
  const pipe = r.pipeline > 1 ? `, pipeline ${r.pipeline}` : ''
  const warm = r.warmupSec ? ` after a ${r.warmupSec.toFixed(2)} s warm-up (not counted; the connection figures include it)` : ''
  return [
    `${r.method} ${r.url}: ${r.connections} connection${r.connections === 1 ? '' : 's'}${pipe}, ${r.durationSec.toFixed(2)} s${warm}`,
    `  requests     ${r.requests} (${r.ok} answered, ${r.errors} failed${r.inFlightAtEnd > 0 ? `, ${r.inFlightAtEnd} abandoned in flight at the end` : ''}), ${r.requestsPerSec.toFixed(1)} req/s`,
    `  latency µs   p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  p99.9 ${l.p999}  max ${l.max}  (min ${l.min}, mean ${l.mean})`,
    `  bytes        sent ${bytes(r.bytes.sent)}, received ${bytes(r.bytes.received)} in ${r.bytes.reads} reads (body ${bytes(r.bytes.body)})`,
    `  status       ${list(r.status)}`,
    `  errors       ${list(r.errorKinds)}`,
    `  connections  dialed ${c.dialed} (failed ${c.dialFailures}), requests on reused ${c.reused}, on new ${c.fresh}, retried ${c.retried}`,
    `  closed       ${list(c.closed)}`,
    ...(r.tls === undefined ? [] : [tlsLine(r.tls)]),
    ...(r.wire === undefined ? [] : [wireLine(r.wire, c.dialed)]),
    '',
  ].join('\n')
}

/** The TLS line of an https run. */
function tlsLine(t: NonNullable<LoadReport['tls']>): string {
  return `  tls          ${t.handshakes} handshake${t.handshakes === 1 ? '' : 's'} (${t.resumed} resumed), ${list(t.versions)}, ${list(t.ciphers)}, handshake ms p50 ${t.handshakeMs.p50.toFixed(2)} p99 ${t.handshakeMs.p99.toFixed(2)}`
}

/** The --capture line: SYNs seen beside the dials, and what the capture kept. */
function wireLine(w: WireReport, dialed: number): string {
  const retrans = w.synRetransmits > 0 ? ` (+${w.synRetransmits} retransmitted)` : ''
  const file = w.file === undefined ? '' : `, written to ${w.file}`
  return `  on the wire  ${w.interface}: ${w.syns} SYN${w.syns === 1 ? '' : 's'}${retrans} for ${dialed} dial${dialed === 1 ? '' : 's'}; ${w.packets} packets captured, ${w.dropped} dropped by kernel${file}`
}

/** The one-line progress shown on a terminal while running. */
export function formatProgress(p: { elapsedMs: number; completed: number; errors: number; connections: number }): string {
  const s = p.elapsedMs / 1000
  return `${s.toFixed(1)} s  ${p.completed} requests  ${(p.completed / Math.max(s, 0.001)).toFixed(0)} req/s  ${p.errors} errors  ${p.connections} connections`
}
