/**
 * Runs a live capture through a TcpTracker: `netkit http-log -i` and `netkit streams -i` read
 * the wire as they would read a file, until SIGINT/SIGTERM, a packet count or a duration. The
 * kernel filter (a pcap-filter(7) expression) keeps what reaches the tracker small.
 */
import { captureFilter } from '../capture/filter-program.js'
import { openLive, type LiveCaptureStats } from '../capture/live-capture.js'
import { linkTypeDescription, linkTypeName } from '../pcap/link-types.js'
import type { PacketSelector } from '../dissect/packet-selector.js'
import type { TcpTracker } from './tcp-tracker.js'

/** What trackLive takes. */
export interface LiveTrackOptions {
  interface: string
  /** pcap-filter(7) expression, '' for none. */
  filter: string
  /** Stop after this many packets. */
  count?: number
  /** Stop after this many seconds. */
  durationSeconds?: number
  /** Where tcpdump-style status lines go (stderr). */
  status: (line: string) => void
  /** Called after each batch (to flush output that should show live). */
  afterBatch?: () => void
  /** Feeds only the packets it selects (a display filter); -c counts those. */
  selector?: PacketSelector
}

/** Feeds live packets to `tracker` until a stop condition, then finishes it; returns the counters. */
export async function trackLive(options: LiveTrackOptions, tracker: TcpTracker): Promise<LiveCaptureStats & { endReason?: string }> {
  const filter = captureFilter(options.filter, undefined)
  const capture = openLive({ interface: options.interface, filter })
  const info = capture.interfaces[0]
  options.status(`listening on ${options.interface}, link-type ${linkTypeName(info.linkType)} (${linkTypeDescription(info.linkType)}), snapshot length ${info.snaplen} bytes`)
  const stop = (): void => capture.stop()
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
  for (const s of signals) process.on(s, stop)
  const timer = options.durationSeconds === undefined ? undefined : setTimeout(stop, options.durationSeconds * 1000)
  let left = options.count ?? Infinity
  let batches = 0
  try {
    for await (const batch of capture) {
      const selector = options.selector
      if (selector) left -= selector.apply(batch, undefined, left)
      else {
        if (batch.count > left) batch.count = left
        left -= batch.count
      }
      tracker.add(batch, selector?.select)
      if (++batches % 16 === 0) tracker.release()
      options.afterBatch?.()
      if (left <= 0) break
    }
  } finally {
    if (timer) clearTimeout(timer)
    for (const s of signals) process.off(s, stop)
    capture.close()
    tracker.finish()
  }
  return { ...capture.stats(), endReason: capture.endReason }
}
