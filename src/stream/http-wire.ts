/**
 * HttpWireParser: HTTP/1.x messages read back from one direction of a reassembled TCP stream
 * (requests from the client, responses from the server). Headers are gathered (capped) until
 * the blank line; bodies are framed as RFC 9112 section 6.3 says and only counted, never
 * copied: Content-Length, chunked (with trailers), until the connection closes, and no body for
 * HEAD, 1xx, 204 and 304 responses (which needs the request methods, fed in by the pairing).
 * The framing rules are src/http/framing.ts's, shared with the transport and the http dissector.
 */
import { BodyFraming, ChunkPhase, ChunkedReader, CONTENT_LENGTH_INVALID, StartLine, bodyFraming, contentLengthValue, finalCodingIsChunked, lineEnd, startLineKind } from '../http/framing.js'

/** One HTTP message as seen on the wire. */
export interface WireMessage {
  isRequest: boolean
  method: string
  uri: string
  version: string
  status: number
  phrase: string
  host: string
  userAgent: string
  contentType: string
  /** Content-Length header value, or -1 when absent. */
  contentLengthHeader: number
  chunked: boolean
  /** Bytes of the start line and headers, and of the body as sent (chunk framing included). */
  headerBytes: number
  bodyBytes: number
  /** Frames and times of the first and the last byte. */
  firstFrame: number
  firstTime: number
  lastFrame: number
  lastTime: number
  /** True when the message ended because the stream did (body read until close, or cut short). */
  truncated: boolean
}

/** Largest header block accepted before the direction is given up as not HTTP. */
const MAX_HEADER_BYTES = 64 * 1024

/** Longest unfinished chunk-size line or trailer section kept between segments. */
const MAX_CHUNK_PENDING = 64 * 1024

const enum State { Start, Headers, Body, Chunked, UntilClose, Dead }

function emptyMessage(): WireMessage {
  return {
    isRequest: true, method: '', uri: '', version: '', status: 0, phrase: '', host: '', userAgent: '', contentType: '',
    contentLengthHeader: -1, chunked: false, headerBytes: 0, bodyBytes: 0,
    firstFrame: 0, firstTime: 0, lastFrame: 0, lastTime: 0, truncated: false,
  }
}

/** True when data[start, end) begins with a complete HTTP/1.x start line (framing.ts's startLineKind). */
function startsMessage(data: Buffer, start: number, end: number): boolean {
  const lf = data.indexOf(0x0a, start)
  if (lf < 0 || lf >= end) return false
  return startLineKind(data, start, lineEnd(data, start, lf)) !== StartLine.None
}

/** What bodyFraming() is asked, refilled for each head. */
interface FramingQuestion { isResponse: boolean; status: number; requestMethod: string; hasTransferEncoding: boolean; chunked: boolean; contentLength: number }

/** Parses one direction's byte stream into messages. */
export class HttpWireParser {
  /** Set when the stream is evidently not HTTP (or damaged past resync). */
  dead = false
  private state = State.Start
  private head: Buffer[] = []
  private headLen = 0
  private msg: WireMessage = emptyMessage()
  private left = 0
  private readonly chunks = new ChunkedReader()
  /** An unfinished chunk-size line or trailer section, kept for the next segment (already counted). */
  private pending: Buffer | null = null
  private readonly question: FramingQuestion = { isResponse: false, status: 0, requestMethod: '', hasTransferEncoding: false, chunked: false, contentLength: -1 }
  /**
   * After lost bytes: where the next message starts is unknown, so segments are skipped until
   * one begins with a start line (as tshark tries each segment), rather than parsing the middle
   * of a message as one and giving the direction up.
   */
  private resync = false

  /**
   * @param onMessage receives each complete message
   * @param nextRequestMethod for a response parser: the method of the request it answers
   */
  constructor(
    private readonly onMessage: (m: WireMessage) => void,
    private readonly nextRequestMethod?: () => string | undefined,
  ) {}

  /** Feeds in-order bytes. */
  push(data: Buffer, start: number, end: number, frame: number, time: number): void {
    if (this.resync) {
      if (!startsMessage(data, start, end)) return
      this.resync = false
    }
    let p = start
    while (p < end && !this.dead) {
      switch (this.state) {
        case State.Start:
          // Skip stray CRLFs between messages (RFC 9112 section 2.2).
          if (data[p] === 0x0d || data[p] === 0x0a) { p++; continue }
          this.msg = emptyMessage()
          this.msg.firstFrame = frame
          this.msg.firstTime = time
          this.head = []
          this.headLen = 0
          this.state = State.Headers
          continue
        case State.Headers: {
          const stop = this.findHeaderEnd(data, p, end)
          const upto = stop === -1 ? end : stop
          this.head.push(data.subarray(p, upto))
          this.headLen += upto - p
          this.touch(frame, time)
          p = upto
          if (stop === -1) {
            if (this.headLen > MAX_HEADER_BYTES) this.dead = true
            continue
          }
          this.headersDone()
          continue
        }
        case State.Body: {
          const n = Math.min(this.left, end - p)
          this.msg.bodyBytes += n
          this.left -= n
          p += n
          this.touch(frame, time)
          if (this.left === 0) this.emit()
          continue
        }
        case State.UntilClose:
          this.msg.bodyBytes += end - p
          this.touch(frame, time)
          p = end
          continue
        case State.Chunked:
          this.touch(frame, time)
          p = this.chunked(data, p, end)
          continue
        default:
          p = end
      }
    }
  }

  /** The stream ended: a message read until close is complete; one cut short is marked so. */
  close(frame: number, time: number): void {
    if (this.state === State.UntilClose) {
      this.touch(frame, time)
      this.emit()
    } else if (this.state !== State.Start && this.state !== State.Dead && !this.dead) {
      this.msg.truncated = true
      if (this.state !== State.Headers) this.emit()
    }
  }

  /** Bytes were lost: a body in progress is cut short, and parsing resumes at the next segment that starts a message. */
  gap(): void {
    this.resync = true
    this.pending = null
    if (this.state === State.Start) return
    if (this.state !== State.Headers) {
      this.msg.truncated = true
      this.emit()
    }
    this.state = State.Start
  }

  /** Chunked body bytes data[p, end), with any unfinished line kept from the last segment; returns where it stopped. */
  private chunked(data: Buffer, p: number, end: number): number {
    let buf = data
    let from = p
    let to = end
    let kept = 0
    if (this.pending !== null) {
      kept = this.pending.length
      buf = Buffer.concat([this.pending, data.subarray(p, end)])
      this.pending = null
      from = 0
      to = buf.length
    }
    const r = this.chunks
    const reached = r.advance(buf, from, to)
    // Bytes kept from the last segment were counted then.
    this.msg.bodyBytes += Math.max(0, reached - from - kept)
    if (r.phase === ChunkPhase.Error) { this.dead = true; return end }
    if (r.phase === ChunkPhase.Done) {
      this.emit()
      return kept > 0 ? p + (reached - kept) : reached
    }
    if (reached < to) {
      if (to - reached > MAX_CHUNK_PENDING) { this.dead = true; return end }
      this.pending = Buffer.from(buf.subarray(reached, to))
      this.msg.bodyBytes += Math.min(to - reached, to - from - kept)
    }
    return end
  }

  private touch(frame: number, time: number): void {
    this.msg.lastFrame = frame
    this.msg.lastTime = time
  }

  /** Position just past the CRLFCRLF (or LFLF) ending the header block, or -1. */
  private findHeaderEnd(data: Buffer, p: number, end: number): number {
    // The terminator may straddle chunks: look back into what was gathered.
    const tail = this.tailBytes(3)
    for (let i = p; i < end; i++) {
      if (data[i] !== 0x0a) continue
      const b1 = i - 1 >= p ? data[i - 1] : tail[tail.length - (p - i + 1)]
      if (b1 === 0x0a) return i + 1
      const b2 = i - 2 >= p ? data[i - 2] : tail[tail.length - (p - i + 2)]
      if (b1 === 0x0d && b2 === 0x0a) return i + 1
    }
    return -1
  }

  private tailBytes(n: number): number[] {
    const out: number[] = []
    for (let k = this.head.length - 1; k >= 0 && out.length < n; k--) {
      const b = this.head[k]
      for (let i = b.length - 1; i >= 0 && out.length < n; i--) out.unshift(b[i])
    }
    return out
  }

  private headersDone(): void {
    const block = this.head.length === 1 ? this.head[0] : Buffer.concat(this.head, this.headLen)
    const text = block.toString('latin1')
    this.head = []
    const m = this.msg
    m.headerBytes = this.headLen
    let eol = text.indexOf('\n')
    const le = lineEnd(block, 0, eol)
    const kind = startLineKind(block, 0, le)
    const first = text.slice(0, le)
    if (kind === StartLine.Status) {
      m.isRequest = false
      m.version = first.slice(0, 8)
      m.status = Number(first.slice(9, 12))
      m.phrase = first.slice(13)
    } else if (kind === StartLine.Request) {
      const start = first.split(' ')
      m.method = start[0]
      m.uri = start.length === 3 ? start[1] : start.slice(1, -1).join(' ')
      m.version = start[start.length - 1]
    } else {
      this.dead = true
      return
    }
    const q = this.question
    q.hasTransferEncoding = false
    q.chunked = false
    q.contentLength = -1
    // Header lines, without splitting the block: only a few names matter here.
    for (let p = eol + 1; p < text.length; p = eol + 1) {
      eol = text.indexOf('\n', p)
      if (eol === -1) eol = text.length
      const c = text.indexOf(':', p)
      if (c <= p || c > eol) continue
      const nameLen = c - p
      if (nameLen !== 4 && nameLen !== 10 && nameLen !== 12 && nameLen !== 14 && nameLen !== 17) continue
      const name = text.slice(p, c).toLowerCase()
      const value = () => text.slice(c + 1, eol).trim()
      if (name === 'host') m.host = value()
      else if (name === 'user-agent') m.userAgent = value()
      else if (name === 'content-type') m.contentType = value()
      else if (name === 'content-length') {
        const n = contentLengthValue(block, c + 1, eol)
        if (n !== CONTENT_LENGTH_INVALID) m.contentLengthHeader = n
      } else if (name === 'transfer-encoding') {
        q.hasTransferEncoding = true
        q.chunked = finalCodingIsChunked(block, c + 1, eol)
      }
    }
    m.chunked = q.chunked
    q.isResponse = !m.isRequest
    q.status = m.status
    q.requestMethod = m.isRequest ? '' : this.nextRequestMethod?.() ?? ''
    q.contentLength = m.contentLengthHeader
    switch (bodyFraming(q)) {
      case BodyFraming.Chunked:
        this.state = State.Chunked
        this.chunks.reset()
        this.pending = null
        return
      case BodyFraming.Length:
        this.left = m.contentLengthHeader
        this.state = State.Body
        return
      case BodyFraming.UntilClose:
        this.state = State.UntilClose
        return
      default:
        this.emit()
    }
  }

  private emit(): void {
    this.state = State.Start
    this.onMessage(this.msg)
  }
}
