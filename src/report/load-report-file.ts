/**
 * `netkit http --report FILE`: the load run's timeline as a self-contained HTML report. With
 * --capture the packets are read back from the capture file after the run (a temporary one when
 * no -w was given) for the times of the SYNs to the target, shown beside the dials.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { LoadReport } from '../http/load-report.js'
import { openCaptureFile } from '../pcap/file-reader.js'
import { TcpSegmentReader } from '../stream/tcp-segment.js'
import type { LoadTimeline } from './load-timeline.js'
import { writeReport } from './write-report.js'

/** The capture file a --report run writes when -w names none, and its removal. */
export function temporaryCapture(): { file: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'netkit-report-'))
  return { file: join(dir, 'wire.pcap'), remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Times (epoch seconds) of the SYNs without ACK to `port` in `file`. */
async function synTimes(file: string, port: number): Promise<number[]> {
  const out: number[] = []
  const seg = new TcpSegmentReader()
  const reader = await openCaptureFile(file)
  try {
    for await (const b of reader.batches()) {
      for (let i = 0; i < b.count; i++) {
        if (!seg.read(b.data, b.offset[i], b.capLen[i], b.linkType[i])) continue
        if (seg.dport === port && (seg.flags & 0x12) === 0x02) out.push(b.tsSec[i] + b.tsNsec[i] / 1e9)
      }
    }
  } finally {
    await reader.close()
  }
  return out
}

/** Writes the report of a finished run; `wireFile` is the run's capture file, if any. */
export async function writeLoadReport(path: string, timeline: LoadTimeline, report: LoadReport, latencyUs: (p: number) => number, wire?: { file: string; port: number }): Promise<number> {
  timeline.finish()
  let syns: number[] | undefined
  if (wire !== undefined) {
    const startEpoch = (performance.timeOrigin + timeline.startedAt) / 1000
    syns = (await synTimes(wire.file, wire.port)).map((t) => t - startEpoch)
  }
  return writeReport(path, `netkit http: ${report.method} ${report.url}`, timeline.data(report, latencyUs, syns))
}
