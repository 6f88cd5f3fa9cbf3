/**
 * HttpWireParser: HTTP/1.x messages read back from one direction of a reassembled TCP stream
 * (requests from the client, responses from the server). Headers are gathered (capped) until
 * the blank line; bodies are framed as RFC 9112 section 6.3 says and only counted, never
 * copied: Content-Length, chunked (with trailers), until the connection closes, and no body for
 * HEAD, 1xx, 204 and 304 responses (which needs the request methods, fed in by the pairing).
 */

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

const enum State { Start, Headers, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailers, UntilClose, Dead }

function emptyMessage(): WireMessage {
  return {
    isRequest: true, method: '', uri: '', version: '', status: 0, phrase: '', host: '', userAgent: '', contentType: '',
    contentLengthHeader: -1, chunked: false, headerBytes: 0, bodyBytes: 0,
    firstFrame: 0, firstTime: 0, lastFrame: 0, lastTime: 0, truncated: false,
  }
}

/**
 * True when data[start, end) begins like an HTTP/1.x start line: `HTTP/` (a status line), or a
 * method token of capitals followed by a space (a request line).
 */
function startsMessage(data: Buffer, start: number, end: number): boolean {
  if (end - start >= 5 && data.toString('latin1', start, start + 5) === 'HTTP/') return true
  let p = start
  while (p < end && p - start < 20 && ((data[p] >= 0x41 && data[p] <= 0x5a) || data[p] === 0x5f || data[p] === 0x2d)) p++
  return p - start >= 3 && p < end && data[p] === 0x20
}

/** Parses one direction's byte stream into messages. */
export class HttpWireParser {
  /** Set when the stream is evidently not HTTP (or damaged past resync). */
  dead = false
  private state = State.Start
  private head: Buffer[] = []
  private headLen = 0
  private msg: WireMessage = emptyMessage()
  private left = 0
  private line = ''
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
        case State.ChunkSize: case State.Trailers: case State.ChunkDataEnd: {
          // Line-oriented parts of chunked framing; lines are short, so gather them as text.
          const nl = data.indexOf(0x0a, p)
          const upto = nl === -1 || nl >= end ? end : nl + 1
          this.line += data.toString('latin1', p, upto)
          this.msg.bodyBytes += upto - p
          this.touch(frame, time)
          p = upto
          if (this.line.length > 8192) { this.dead = true; continue }
          if (!this.line.endsWith('\n')) continue
          const text = this.line.trim()
          this.line = ''
          if (this.state === State.ChunkDataEnd) { this.state = State.ChunkSize; continue }
          if (this.state === State.Trailers) { if (text === '') this.emit(); continue }
          const size = parseInt(text.split(';')[0], 16)
          if (!Number.isFinite(size) || size < 0 || !/^[0-9a-fA-F]/.test(text)) { this.dead = true; continue }
          if (size === 0) this.state = State.Trailers
          else { this.left = size; this.state = State.ChunkData }
          continue
        }
        case State.ChunkData: {
          const n = Math.min(this.left, end - p)
          this.msg.bodyBytes += n
          this.left -= n
          p += n
          this.touch(frame, time)
          if (this.left === 0) this.state = State.ChunkDataEnd
          continue
        }
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
    if (this.state === State.Start) return
    if (this.state !== State.Headers) {
      this.msg.truncated = true
      this.emit()
    }
    this.state = State.Start
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
    const text = this.head.length === 1 ? this.head[0].toString('latin1') : Buffer.concat(this.head, this.headLen).toString('latin1')
    this.head = []
    const m = this.msg
    m.headerBytes = this.headLen
    let eol = text.indexOf('\n')
    const first = text.slice(0, eol > 0 && text.charCodeAt(eol - 1) === 13 ? eol - 1 : eol)
    const start = first.split(' ')
    if (start[0].length === 8 && start[0].startsWith('HTTP/')) {
      m.isRequest = false
      m.version = start[0]
      m.status = Number(start[1])
      m.phrase = start.slice(2).join(' ')
      if (!Number.isInteger(m.status)) { this.dead = true; return }
    } else if (start.length >= 3 && /^HTTP\/\d\.\d$/.test(start[start.length - 1]) && /^[A-Z][A-Z_-]*$/.test(start[0])) {
      m.method = start[0]
      m.uri = start.length === 3 ? start[1] : start.slice(1, -1).join(' ')
      m.version = start[start.length - 1]
    } else {
      this.dead = true
      return
    }
    let te = ''
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
      else if (name === 'content-length') m.contentLengthHeader = Number(value())
      else if (name === 'transfer-encoding') te = value().toLowerCase()
    }
    m.chunked = /(^|,)\s*chunked\s*$/.test(te)
    // RFC 9112 section 6.3: the order of these checks is the rule.
    if (!m.isRequest) {
      const method = this.nextRequestMethod?.() ?? ''
      if (method === 'HEAD' || (m.status >= 100 && m.status < 200) || m.status === 204 || m.status === 304) return this.emit()
      if (method === 'CONNECT' && m.status >= 200 && m.status < 300) return this.emit()
    }
    if (m.chunked) { this.state = State.ChunkSize; this.line = ''; return }
    if (m.contentLengthHeader >= 0 && Number.isFinite(m.contentLengthHeader)) {
      this.left = m.contentLengthHeader
      if (this.left === 0) return this.emit()
      this.state = State.Body
      return
    }
    if (m.isRequest) return this.emit()
    this.state = State.UntilClose
  }

  private emit(): void {
    this.state = State.Start
    this.onMessage(this.msg)
  }
}
