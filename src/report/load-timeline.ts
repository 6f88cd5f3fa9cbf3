/**
 * The timeline of a load run for `netkit http --report`: requests, latency percentiles, status
 * codes and errors, and the transport's connection counters (dials, requests on reused
 * connections, closes by reason), binned over the run as it goes. Bins start at 10 ms and double
 * in width past 600, so a run of any length embeds a few thousand numbers. The counters are
 * cumulative in the transport; each finished request (and the end) adds what changed since the
 * last look to the current bin.
 */
import { performance } from 'node:perf_hooks'
import type { LoadObserver } from '../http/load-generator.js'
import type { LoadReport } from '../http/load-report.js'
import type { TransportStats } from '../http/transport-stats.js'
import { LatencyBins, percentileCurve, round, TimeBins } from './series.js'

/** A load run's timeline (a LoadObserver). */
export class LoadTimeline implements LoadObserver {
  private t0 = 0
  /** When the counted run started (performance.now() ms). */
  get startedAt(): number { return this.t0 }
  private stats?: TransportStats
  private last = { dials: 0, reused: 0, closed: {} as Record<string, number> }
  private bins = new TimeBins(['requests', 'dialed', 'reused'], 0.01, 600)
  private latency = new LatencyBins(0.01, 300)

  start(stats: TransportStats): void {
    this.t0 = performance.now()
    this.stats = stats
    this.last = { dials: stats.dials, reused: stats.reused, closed: { ...stats.closed } }
    this.bins = new TimeBins(['requests', 'dialed', 'reused'], 0.01, 600)
    this.latency = new LatencyBins(0.01, 300)
  }

  result(status: number, errorKind: string | undefined, ms: number): void {
    const t = this.elapsed()
    this.bins.add('requests', t, 1)
    this.bins.add(errorKind === undefined ? `status ${status}` : `error ${errorKind}`, t, 1)
    this.latency.record(t, ms / 1000)
    this.counters(t)
  }

  /** The run is over: the closes at shutdown go into the last bin. */
  finish(): void {
    this.counters(this.elapsed())
  }

  private elapsed(): number {
    return Math.max(0, (performance.now() - this.t0) / 1000)
  }

  private counters(t: number): void {
    const s = this.stats
    if (s === undefined) return
    if (s.dials !== this.last.dials) { this.bins.add('dialed', t, s.dials - this.last.dials); this.last.dials = s.dials }
    if (s.reused !== this.last.reused) { this.bins.add('reused', t, s.reused - this.last.reused); this.last.reused = s.reused }
    for (const [reason, n] of Object.entries(s.closed)) {
      const before = this.last.closed[reason] ?? 0
      if (n !== before) { this.bins.add(`closed ${reason}`, t, n - before); this.last.closed[reason] = n }
    }
  }

  /**
   * The report data: the timeline, the whole run's latency curve (from the run's own histogram,
   * µs) and, with --capture, the SYN times seen on the wire (seconds since the run's start).
   */
  data(report: LoadReport, latencyUs: (p: number) => number, synTimes?: number[]): Record<string, unknown> {
    const b = this.bins.export()
    const pick = (prefix: string) => Object.fromEntries(Object.entries(b.columns).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]))
    let syns: number[] | undefined
    if (synTimes !== undefined) {
      syns = b.t.map(() => 0)
      for (const t of synTimes) syns[Math.min(syns.length - 1, Math.max(0, Math.floor(t / this.bins.width)))]++
    }
    const outcomes = { ...pick('status '), ...Object.fromEntries(Object.entries(pick('error ')).map(([k, v]) => [`error: ${k}`, v])) }
    return {
      kind: 'load',
      summary: {
        url: report.url, method: report.method, requests: report.requests, durationSec: round(report.durationSec), requestsPerSec: round(report.requestsPerSec),
        connections: report.connections, dialed: report.connectionStats.dialed, reused: report.connectionStats.reused,
      },
      timeline: { interval: this.bins.width, t: b.t, rps: b.columns.requests.map((v) => round(v / this.bins.width)) },
      latency: this.latency.export([50, 90, 99, 99.9]),
      distribution: percentileCurve(latencyUs, 1 / 1000),
      connections: { dialed: b.columns.dialed, reused: b.columns.reused, closed: pick('closed '), syns },
      outcomes,
      wire: report.wire,
    }
  }
}
