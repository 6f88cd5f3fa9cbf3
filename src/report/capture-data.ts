/**
 * The data of a capture report, gathered in one pass over the file: the dissection engine feeds
 * the I/O graph, the protocol hierarchy, conversations, endpoints and the TCP stream graphs, and
 * a TcpTracker on the same batches reassembles HTTP for latency, status codes and connections
 * per host. Everything is aggregated as it is read (bins, bounded point sets, top-N tables), so
 * the JSON a report embeds stays small whatever the size of the capture.
 */
import { DissectionEngine } from '../dissect/engine.js'
import type { DissectorRegistry } from '../dissect/registry.js'
import { openCaptureFile } from '../pcap/file-reader.js'
import { RecordKind } from '../pcap/record-batch.js'
import { ConversationCounter, sortedConversations, sortedEndpoints } from '../stats/conversations.js'
import { ProtocolHierarchyTap } from '../stats/proto-hierarchy.js'
import { HttpTransactionLog } from '../stream/http-log.js'
import { TcpTracker } from '../stream/tcp-tracker.js'
import { LatencyBins, LogHistogram, percentileCurve, round, TimeBins } from './series.js'
import { TCP_GRAPH_FIELDS, TcpGraphs } from './tcp-graphs.js'

/** Rows of the conversation and endpoint tables, and streams graphed. */
const TOP_ROWS = 20
const TOP_STREAMS = 4

/** Collects the report data of `path`. */
export async function captureReportData(path: string, registry: DissectorRegistry, onWarning?: (w: string) => void): Promise<Record<string, unknown>> {
  const phs = new ProtocolHierarchyTap('io,phs')
  const tcpConv = new ConversationCounter('tcp')
  const ipConv = new ConversationCounter('ip')
  const ip6Conv = new ConversationCounter('ipv6')
  const graphs = new TcpGraphs()
  const io = new TimeBins(['packets', 'bytes'], 0.001, 2000)
  const names = [...new Set([...tcpConv.fields, ...ipConv.fields, ...ip6Conv.fields, ...TCP_GRAPH_FIELDS])]
  const engine = new DissectionEngine(registry, { fields: names.flatMap((n) => registry.fieldByName.get(n) ?? []), allLayers: true })

  let firstTime = NaN
  const ttfb = new LatencyBins(0.001)
  const total = new LatencyBins(0.001)
  const ttfbAll = new LogHistogram()
  const totalAll = new LogHistogram()
  const statusBins = new TimeBins([], 0.001, 300)
  const statuses = new Map<string, number>()
  const hosts = new Map<string, { streams: Set<number>; requests: number }>()
  let transactions = 0
  const log = new HttpTransactionLog((tx) => {
    transactions++
    const q = tx.request
    const r = tx.response
    const t = Math.max(0, q.firstTime - firstTime)
    const status = r ? String(r.status) : 'no response'
    statuses.set(status, (statuses.get(status) ?? 0) + 1)
    statusBins.add(status, t, 1)
    const host = q.host || tx.server
    let h = hosts.get(host)
    if (h === undefined) hosts.set(host, h = { streams: new Set(), requests: 0 })
    h.streams.add(tx.stream)
    h.requests++
    if (!r) return
    ttfb.record(t, r.firstTime - q.lastTime)
    total.record(t, r.lastTime - q.firstTime)
    ttfbAll.record(r.firstTime - q.lastTime)
    totalAll.record(r.lastTime - q.firstTime)
  })
  const tracker = new TcpTracker(log.handler)

  const reader = await openCaptureFile(path, { onWarning })
  let packets = 0
  let bytes = 0
  let firstSec = 0
  let firstNsec = 0
  let last = 0
  let batches = 0
  const time = { rel: 0, firstSec: 0, firstNsec: 0 }
  try {
    for await (const batch of reader.batches()) {
      // The tracker reports transactions as it reads, so the time origin is set first.
      if (Number.isNaN(firstTime)) for (let i = 0; i < batch.count; i++) if (batch.kind[i] === RecordKind.packet) { firstTime = batch.tsSec[i] + batch.tsNsec[i] / 1e9; break }
      tracker.add(batch)
      if (++batches % 16 === 0) tracker.release()
      for (let i = 0; i < batch.count; i++) {
        if (batch.kind[i] !== RecordKind.packet) continue
        const p = engine.dissect(batch, i)
        if (packets++ === 0) {
          firstSec = time.firstSec = p.sec
          firstNsec = time.firstNsec = p.nsec
        }
        const t = (p.sec - firstSec) + (p.nsec - firstNsec) / 1e9
        time.rel = t
        if (t > last) last = t
        bytes += p.origLen
        io.add('packets', Math.max(0, t), 1)
        io.add('bytes', Math.max(0, t), p.origLen)
        phs.add(p)
        tcpConv.add(p, time)
        ipConv.add(p, time)
        ip6Conv.add(p, time)
        graphs.add(p, t)
      }
    }
  } finally {
    tracker.finish()
    await reader.close()
  }

  const convRows = (c: ConversationCounter, ports: boolean) => sortedConversations(c.list).slice(0, TOP_ROWS).map((x) => ({
    a: ports ? `${x.addrA}:${x.portA}` : x.addrA, b: ports ? `${x.addrB}:${x.portB}` : x.addrB,
    frames: x.ab.frames + x.ba.frames, bytes: x.ab.bytes + x.ba.bytes, aToB: x.ab.bytes, bToA: x.ba.bytes, start: round(x.start), duration: round(x.end - x.start),
  }))
  const endpointRows = (c: ConversationCounter) => sortedEndpoints(c.endpoints()).slice(0, TOP_ROWS).map((e) => ({
    address: e.addr, packets: e.tx.frames + e.rx.frames, bytes: e.tx.bytes + e.rx.bytes, tx: e.tx.bytes, rx: e.rx.bytes,
  }))
  const ioData = io.export()
  const statusData = statusBins.export()
  return {
    kind: 'capture',
    file: path.split('/').pop(),
    summary: { packets, bytes, duration: round(last), start: firstTime, conversations: tcpConv.list.length, transactions },
    io: { interval: io.width, t: ioData.t, packets: ioData.columns.packets, bytes: ioData.columns.bytes },
    hierarchy: phs.json(),
    conversations: { tcp: convRows(tcpConv, true), ip: convRows(ipConv, false), ipv6: convRows(ip6Conv, false) },
    endpoints: { ip: endpointRows(ipConv), ipv6: endpointRows(ip6Conv) },
    streams: graphs.busiest(TOP_STREAMS),
    http: transactions === 0 ? null : {
      ttfb: ttfb.export([50, 90, 99]),
      total: total.export([50, 90, 99]),
      ttfbCurve: percentileCurve((p) => ttfbAll.percentile(p), 1000),
      totalCurve: percentileCurve((p) => totalAll.percentile(p), 1000),
      statuses: Object.fromEntries([...statuses].sort((a, b) => b[1] - a[1])),
      statusOverTime: { t: statusData.t, columns: statusData.columns },
      hosts: [...hosts].map(([host, h]) => ({ host, connections: h.streams.size, requests: h.requests })).sort((a, b) => b.connections - a.connections).slice(0, TOP_ROWS),
    },
  }
}
