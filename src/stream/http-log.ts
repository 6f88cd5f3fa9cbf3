/**
 * HttpTransactionLog: HTTP transactions reconstructed from the wire. Each TCP conversation gets
 * a parser per direction; whichever direction carries requests is the client. Responses are
 * paired with requests in order (HTTP/1.1 pipelining keeps that order, RFC 9112 section 9.3.2);
 * a 1xx response is interim and does not consume its request.
 */
import type { ConversationHandler } from './tcp-tracker.js'
import type { TcpConversation } from './tcp-conversations.js'
import { HttpWireParser, type WireMessage } from './http-wire.js'

/** One request and its response (absent when none was seen). */
export interface HttpTransaction {
  stream: number
  client: string
  server: string
  request: WireMessage
  response?: WireMessage
  /** Interim (1xx) responses that came before the final one. */
  interim: number
}

/** Builds transactions from the conversations it is given. */
export class HttpTransactionLog {
  /** Transactions completed, in the order their responses (or ends) came. */
  count = 0

  constructor(private readonly onTransaction: (t: HttpTransaction) => void) {}

  /** The handler to give a TcpTracker. */
  readonly handler: ConversationHandler = (conv) => {
    const pending: HttpTransaction[] = []
    // Responses whose request has not been parsed yet: a capture can hold a response before the
    // request's last segment (reordering, or loss before the capture point).
    const early: WireMessage[] = []
    let interim = 0
    const endpoint = (fromA: boolean) => (fromA ? `${fmt(conv.addrA)}:${conv.portA}` : `${fmt(conv.addrB)}:${conv.portB}`)
    const closed = [false, false]
    const make = (fromA: boolean) => new HttpWireParser((m) => {
      if (m.isRequest) {
        const t: HttpTransaction = { stream: conv.index, client: endpoint(fromA), server: endpoint(!fromA), request: m, interim: 0 }
        // Interim responses seen before the request was complete (Expect: 100-continue) are its own.
        t.interim = interim
        interim = 0
        const r = early.shift()
        if (r) { t.response = r; this.emit(t) } else pending.push(t)
        return
      }
      if (m.status >= 100 && m.status < 200 && m.status !== 101) {
        if (pending[0]) pending[0].interim++
        else interim++
        return
      }
      const t = pending.shift()
      if (!t) { early.push(m); return }
      t.response = m
      this.emit(t)
    }, () => pending[0]?.request.method)
    const pa = make(true)
    const pb = make(false)
    const flushIfDone = () => {
      if (closed[0] && closed[1]) while (pending.length > 0) this.emit(pending.shift()!)
    }
    return {
      fromA: {
        data: (d, s, e, f, t) => pa.push(d, s, e, f, t),
        gap: () => pa.gap(),
        end: (_how, f, t) => { pa.close(f, t); closed[0] = true; flushIfDone() },
      },
      fromB: {
        data: (d, s, e, f, t) => pb.push(d, s, e, f, t),
        gap: () => pb.gap(),
        end: (_how, f, t) => { pb.close(f, t); closed[1] = true; flushIfDone() },
      },
    }
  }

  private emit(t: HttpTransaction): void {
    this.count++
    this.onTransaction(t)
  }
}

function fmt(addr: string): string {
  return addr.includes(':') ? `[${addr}]` : addr
}

/** Formats one transaction as a log line. */
export function formatTransaction(t: HttpTransaction): string {
  const q = t.request
  const r = t.response
  const sec = Math.floor(q.firstTime)
  const usec = Math.min(999999, Math.round((q.firstTime - sec) * 1e6))
  const when = `${new Date(sec * 1000).toISOString().slice(0, 19)}.${String(usec).padStart(6, '0')}Z`
  const ms = (s: number) => `${(s * 1000).toFixed(3)}ms`
  const status = r ? `${r.status}` : '-'
  const ttfb = r ? ms(r.firstTime - q.lastTime) : '-'
  const total = r ? ms(r.lastTime - q.firstTime) : '-'
  const respBytes = r ? r.headerBytes + r.bodyBytes : 0
  return `${when} ${t.client} > ${t.server} ${q.method} ${q.host || '-'} ${q.uri} ${status} ` +
    `req=${q.headerBytes + q.bodyBytes} resp=${respBytes} ttfb=${ttfb} total=${total}${r?.truncated ? ' (cut short)' : ''}\n`
}

/** One transaction as a JSON object (numbers as numbers, times as epoch seconds). */
export function transactionJson(t: HttpTransaction): Record<string, unknown> {
  const q = t.request
  const r = t.response
  return {
    stream: t.stream, time: q.firstTime, client: t.client, server: t.server,
    method: q.method, host: q.host || null, uri: q.uri, version: q.version, user_agent: q.userAgent || null,
    request_bytes: q.headerBytes + q.bodyBytes, request_body_bytes: q.bodyBytes,
    status: r?.status ?? null, phrase: r?.phrase ?? null,
    content_type: r?.contentType || null,
    content_length_header: r && r.contentLengthHeader >= 0 ? r.contentLengthHeader : null,
    response_bytes: r ? r.headerBytes + r.bodyBytes : null, response_body_bytes: r?.bodyBytes ?? null,
    chunked: r?.chunked ?? null, interim_responses: t.interim,
    ttfb: r ? r.firstTime - q.lastTime : null, total: r ? r.lastTime - q.firstTime : null,
    request_frame: q.firstFrame, response_frame: r?.lastFrame ?? null, cut_short: r?.truncated ?? false,
  }
}
