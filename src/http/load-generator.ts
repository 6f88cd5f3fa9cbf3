/**
 * LoadGenerator: drives a Transport with a fixed number of workers, each sending one request at a
 * time (or `pipeline` per connection), for N requests or a duration, optionally at a fixed total
 * rate. With a rate, latency is measured from each request's intended send time, not from when a
 * busy worker got round to it: the coordinated-omission correction of wrk2
 * (see: https://github.com/giltene/wrk2#acknowledgements). Workers reuse one Exchange each and
 * the request bytes are serialized once, so the steady state allocates next to nothing.
 */
import { now } from './clock.js'
import { InvalidArgumentError } from '../errors.js'
import type { HttpError } from '../errors.js'
import { Exchange, type ExchangeHandler } from './exchange.js'
import { LatencyHistogram } from './histogram.js'
import type { RequestOptions, RequestSpec } from './request-spec.js'
import { Transport, type TransportOptions } from './transport.js'
import type { TransportStats } from './transport-stats.js'

/** What to run. */
export interface LoadOptions {
  /** Concurrent workers (connections, when not pipelining). */
  connections: number
  /** Stop after this many requests (completed or failed)... */
  requests?: number
  /** ...or after this long, in ms (in-flight requests are then abandoned, as wrk does). */
  durationMs?: number
  /** Total requests per second across workers; 0 = as fast as possible. */
  rate?: number
  /** Pause of each worker between its requests, in ms. */
  thinkMs?: number
  /**
   * Load this long first and count none of it, then the duration (durationMs runs only): the
   * JIT compiles the hot path meanwhile. The connections stay, so their counters include it.
   */
  warmupMs?: number
  /** Transport options (pipeline > 1 runs `connections * pipeline` workers). */
  transport: TransportOptions
  /** Called about once a second while running. */
  onProgress?: (p: LoadProgress) => void
  /** Told of the run's start and of every finished request (for `--report` timelines). */
  observer?: LoadObserver
}

/** Watches a run as it goes (src/report/load-timeline.ts bins what it is told). */
export interface LoadObserver {
  /** The counted run starts (again after a warm-up); `stats` are the transport's live counters. */
  start(stats: TransportStats): void
  /** A request finished: its status (0 when it failed), the error's kind, its latency in ms. */
  result(status: number, errorKind: string | undefined, ms: number): void
}

/** A running snapshot. */
export interface LoadProgress {
  elapsedMs: number
  completed: number
  errors: number
  connections: number
}

/** The outcome of a run. */
export interface LoadResult {
  durationMs: number
  /** Requests that got a complete response (any status). */
  ok: number
  /** Requests that failed, by error kind. */
  errors: Map<string, number>
  errorCount: number
  /** Response status counts. */
  statuses: Map<number, number>
  /** Latency of every finished request (ok or failed), in µs. */
  latency: LatencyHistogram
  /** Body bytes of the responses. */
  bodyBytes: number
  transport: TransportStats
  workers: number
  /** Requests still in flight when a duration run ended (abandoned, not counted above). */
  inFlightAtEnd: number
  /** The warm-up before the counted run (0: none), and the bytes the transport moved in it. */
  warmupMs: number
  warmupBytes: { sent: number; received: number; reads: number }
}

/** One worker: sends, waits, records, repeats. */
class Worker implements ExchangeHandler {
  readonly ex: Exchange
  private start = 0
  private readonly sendBound = () => this.send()
  private readonly nextBound = () => this.next()

  constructor(private readonly run: LoadRun, spec: RequestSpec) {
    this.ex = new Exchange(spec, this)
  }

  /** Takes the next request ticket and sends it (now, or at its slot when rate-limited). */
  next(): void {
    const run = this.run
    const ticket = run.takeTicket()
    if (ticket < 0) return
    if (run.intervalMs > 0) {
      const intended = run.startedAt + ticket * run.intervalMs
      this.start = intended
      const wait = intended - now()
      if (wait > 1) {
        setTimeout(this.sendBound, wait)
        return
      }
    } else {
      this.start = now()
    }
    this.send()
  }

  private send(): void {
    if (this.run.stopped) return
    this.ex.reset()
    this.run.transport.dispatch(this.ex)
  }

  onResponseComplete(ex: Exchange): void {
    if (this.run.stopped) return
    this.run.recordOk(ex.status, ex.bodyBytes, now() - this.start)
    this.after()
  }

  onError(_ex: Exchange, err: HttpError): void {
    if (this.run.stopped) return
    this.run.recordError(err.kind, now() - this.start)
    this.after()
  }

  private after(): void {
    if (this.run.stopped) return
    if (this.run.thinkMs > 0) setTimeout(this.nextBound, this.run.thinkMs)
    else this.next()
  }
}

/** State of one run. */
class LoadRun {
  readonly transport: Transport
  readonly intervalMs: number
  readonly thinkMs: number
  startedAt = 0
  stopped = false
  private issued = 0
  private finished = 0
  ok = 0
  errorCount = 0
  bodyBytes = 0
  readonly errors = new Map<string, number>()
  readonly statusCounts = new Float64Array(1000)
  latency = new LatencyHistogram()
  readonly warmupBytes = { sent: 0, received: 0, reads: 0 }
  private resolve: () => void = () => {}

  constructor(private readonly options: LoadOptions) {
    this.transport = new Transport(options.transport)
    this.intervalMs = options.rate && options.rate > 0 ? 1000 / options.rate : 0
    this.thinkMs = options.thinkMs ?? 0
  }

  /** The index of the next request to send, or -1 when no more should be sent. */
  takeTicket(): number {
    if (this.stopped) return -1
    if (this.options.requests !== undefined && this.issued >= this.options.requests) return -1
    return this.issued++
  }

  recordOk(status: number, bodyBytes: number, ms: number): void {
    this.ok++
    this.bodyBytes += bodyBytes
    this.statusCounts[status < 1000 ? status : 999]++
    this.latency.record(ms * 1000)
    this.options.observer?.result(status, undefined, ms)
    this.done()
  }

  recordError(kind: string, ms: number): void {
    this.errorCount++
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1)
    this.latency.record(ms * 1000)
    this.options.observer?.result(0, kind, ms)
    this.done()
  }

  private done(): void {
    this.finished++
    if (this.options.requests !== undefined && this.finished >= this.options.requests) this.stop()
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.resolve()
  }

  inFlightAtEnd = 0

  /** The warm-up is over: what was counted so far is dropped, and the clock starts. */
  private forgetWarmup(): void {
    this.ok = 0
    this.errorCount = 0
    this.bodyBytes = 0
    this.errors.clear()
    this.statusCounts.fill(0)
    this.latency = new LatencyHistogram()
    this.warmupBytes.sent = this.transport.stats.bytesSent
    this.warmupBytes.received = this.transport.stats.bytesReceived
    this.warmupBytes.reads = this.transport.stats.reads
    this.startedAt = now()
    this.options.observer?.start(this.transport.stats)
  }

  /** Runs to the end; resolves with the elapsed time in ms. */
  async execute(spec: RequestSpec): Promise<number> {
    const options = this.options
    const workers = options.connections * Math.max(1, options.transport.pipeline ?? 1)
    const finished = new Promise<void>((r) => { this.resolve = r })
    this.startedAt = now()
    options.observer?.start(this.transport.stats)
    let durationTimer: NodeJS.Timeout | null = null
    const startCounting = (): void => {
      if (options.durationMs !== undefined) durationTimer = setTimeout(() => this.stop(), options.durationMs)
    }
    const warmupMs = options.warmupMs ?? 0
    if (warmupMs > 0) {
      if (options.durationMs === undefined || (options.rate ?? 0) > 0) throw new InvalidArgumentError('a warm-up needs a duration run without --rate')
      durationTimer = setTimeout(() => {
        this.forgetWarmup()
        startCounting()
      }, warmupMs)
    } else {
      startCounting()
    }
    let progressTimer: NodeJS.Timeout | null = null
    if (options.onProgress) {
      const report = options.onProgress
      progressTimer = setInterval(() => {
        const counts = this.transport.connCounts(spec.target)
        report({ elapsedMs: now() - this.startedAt, completed: this.ok + this.errorCount, errors: this.errorCount, connections: counts.active + counts.idle })
      }, 1000)
    }
    const list: Worker[] = []
    for (let i = 0; i < workers; i++) list.push(new Worker(this, spec))
    if (options.requests === 0) this.stop()
    for (const w of list) w.next()
    await finished
    const elapsed = now() - this.startedAt
    if (durationTimer) clearTimeout(durationTimer)
    if (progressTimer) clearInterval(progressTimer)
    for (const w of list) if (w.ex.active) this.inFlightAtEnd++
    this.transport.close()
    return elapsed
  }
}

/** Runs a load test of one request against its target. */
export async function runLoad(request: RequestOptions, options: LoadOptions): Promise<LoadResult> {
  const run = new LoadRun(options)
  const spec = run.transport.prepare(request)
  const durationMs = await run.execute(spec)
  const statuses = new Map<number, number>()
  run.statusCounts.forEach((n, status) => { if (n > 0) statuses.set(status, n) })
  return {
    durationMs,
    ok: run.ok,
    errors: run.errors,
    errorCount: run.errorCount,
    statuses,
    latency: run.latency,
    bodyBytes: run.bodyBytes,
    transport: run.transport.stats,
    workers: options.connections * Math.max(1, options.transport.pipeline ?? 1),
    inFlightAtEnd: run.inFlightAtEnd,
    warmupMs: options.warmupMs ?? 0,
    warmupBytes: run.warmupBytes,
  }
}
