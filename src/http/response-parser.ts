/**
 * ResponseParser: an incremental HTTP/1.1 response parser that works on the Buffers as they come
 * off the socket. The status line and the framing header fields are read byte by byte; bodies are
 * never converted to strings, only counted or handed on as slices. Framing (RFC 9112 section
 * 6.3: no body for HEAD, 1xx, 204 and 304; chunked when the final transfer coding is chunked;
 * read until close when another transfer coding or no length is given; else Content-Length) is
 * framing.ts's, which the stream reader and the http dissector share.
 */
import { BodyFraming, ChunkPhase, ChunkedReader, CONTENT_LENGTH_INVALID, MAX_CHUNK_LINE, StartLine, asciiLowerIs, bodyFraming, contentLengthValue, finalCodingIsChunked, lineEnd, startLineKind, statusOf } from './framing.js'

/** What the parser tells the connection that owns it. Each callback may close the connection. */
export interface ResponseParserOwner {
  /** A new response starts; false when no request is waiting for one (unsolicited bytes). */
  onMessageStart(): boolean
  /** The request the coming response answers was a HEAD (so the response has no body). */
  expectsNoBody(): boolean
  /** An interim 1xx response (not 101) was read, e.g. 100 Continue (RFC 9110 section 15.2). */
  onInterim(status: number): void
  /** The final response's head was read; header block is `block[start, end)`. */
  onHead(block: Buffer, start: number, end: number): void
  /** Body bytes `chunk[start, end)` (already de-chunked). */
  onBody(chunk: Buffer, start: number, end: number): void
  /** Trailer fields of a chunked body, `block[start, end)` (may be empty). */
  onTrailers(block: Buffer, start: number, end: number): void
  /** The whole response was read. */
  onComplete(): void
  /** The bytes are not a valid response (`head-too-large`: a head past MAX_HEAD); the connection is unusable. */
  onParseError(kind: 'parse' | 'head-too-large', message: string): void
}

const enum State { Head, Length, Chunked, UntilClose, Dead }

/** Largest response head accepted (Go's default MaxResponseHeaderBytes is 1 MiB). */
export const MAX_HEAD = 1 << 20
const CR = 13
const LF = 10
const SP = 32
const HT = 9

/** Parses one connection's responses, in order. */
export class ResponseParser {
  /** Status code of the response being read. */
  status = 0
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  versionMinor = 1
  /** Content-Length, or -1. */
  contentLength = -1
  /** A Transfer-Encoding field was present. */
  hasTransferEncoding = false
  /** The final transfer coding is chunked. */
  chunked = false
  /** `Connection: close` was present. */
  connectionClose = false
  /** `Connection: keep-alive` was present (needed for HTTP/1.0 persistence). */
  connectionKeepAlive = false
  /** `Keep-Alive: timeout=N` in seconds, or -1. */
  keepAliveTimeout = -1
  /** How the current body is delimited. */
  bodyMode: BodyFraming = BodyFraming.None
  /** Bytes of the current response seen so far (interim responses included). */
  messageBytes = 0

  private state = State.Head
  private pending: Buffer | null = null
  private remaining = 0
  private readonly chunks = new ChunkedReader()
  /** What bodyFraming() reads, refilled for each head. */
  private readonly framingHead = { isResponse: true, status: 0, requestMethod: '', hasTransferEncoding: false, chunked: false, contentLength: -1 }
  private readonly onChunkData: (data: Uint8Array, start: number, end: number) => void
  /**
   * The last complete head parsed (status line to empty line) and what it said: a server sends
   * the same bytes again and again (nginx changes only Date, once a second), and bytes equal to
   * these parse to the same values, so one compare replaces the scan.
   */
  private lastHead: Buffer | null = null
  private lastHeadLength = 0
  private lastStatus = 0
  private lastVersionMinor = 1
  private lastContentLength = -1
  private lastFlags = 0
  private lastKeepAliveTimeout = -1

  constructor(private readonly owner: ResponseParserOwner) {
    this.onChunkData = (data, start, end) => owner.onBody(data as Buffer, start, end)
  }

  /** True while between responses with nothing of the next one read. */
  get idle(): boolean {
    return this.state === State.Head && this.messageBytes === 0 && this.pending === null
  }

  /** True when reading a body that ends at EOF. */
  get readingUntilClose(): boolean {
    return this.state === State.UntilClose
  }

  /** Stops parsing for good (the connection is closing). */
  kill(): void {
    this.state = State.Dead
    this.pending = null
  }

  /** Feeds bytes read from the socket. */
  feed(chunk: Buffer): void {
    let buf = chunk
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk])
      this.pending = null
    }
    let p = 0
    const n = buf.length
    while (p < n) {
      switch (this.state) {
        case State.Head: p = this.head(buf, p); break
        case State.Length: {
          const take = Math.min(this.remaining, n - p)
          this.remaining -= take
          this.owner.onBody(buf, p, p + take)
          p += take
          if (this.remaining === 0 && this.state === State.Length) this.complete()
          break
        }
        case State.Chunked: p = this.chunkedBody(buf, p); break
        case State.UntilClose:
          this.owner.onBody(buf, p, n)
          p = n
          break
        case State.Dead: return
      }
      if (p < 0) return
    }
  }

  /**
   * The peer closed its side. Returns 'complete' if that ended a read-until-close body (the
   * response is then complete), 'idle' if no byte of a response was pending, else 'truncated'.
   */
  end(): 'complete' | 'idle' | 'truncated' {
    if (this.state === State.UntilClose) {
      this.complete()
      return 'complete'
    }
    return this.idle ? 'idle' : 'truncated'
  }

  private fail(message: string, kind: 'parse' | 'head-too-large' = 'parse'): number {
    this.state = State.Dead
    this.pending = null
    this.owner.onParseError(kind, message)
    return -1
  }

  /** Keeps the unfinished tail for the next feed; -1 stops this feed. */
  private stash(buf: Buffer, from: number, limit: number, what: string): number {
    if (buf.length - from > limit) return this.fail(`${what} longer than ${limit} bytes`, 'head-too-large')
    this.pending = Buffer.from(buf.subarray(from))
    return -1
  }

  private head(buf: Buffer, start: number): number {
    if (this.messageBytes === 0) {
      // Tolerate stray empty lines between responses, as RFC 9112 section 2.2 asks of servers.
      while (start < buf.length && (buf[start] === CR || buf[start] === LF)) start++
      if (start === buf.length) return start
      if (!this.owner.onMessageStart()) return -1
      if (this.state !== State.Head) return -1
    }
    // One pass finds the empty line that ends the head and reads the fields on the way; a head
    // that is not all here yet is kept and read again when the rest arrives.
    const end = this.parseHead(buf, start)
    if (end < 0) return -1
    if (end === 0) {
      this.messageBytes += buf.length - start
      return this.stash(buf, start, MAX_HEAD, 'response head')
    }
    if (end - start > MAX_HEAD) return this.fail(`response head longer than ${MAX_HEAD} bytes`, 'head-too-large')
    this.messageBytes += end - start
    const status = this.status
    if (status >= 100 && status < 200 && status !== 101) {
      this.owner.onInterim(status)
      return this.state === State.Dead ? -1 : end
    }
    const fh = this.framingHead
    fh.status = status
    fh.requestMethod = this.owner.expectsNoBody() ? 'HEAD' : ''
    fh.hasTransferEncoding = this.hasTransferEncoding
    fh.chunked = this.chunked
    fh.contentLength = this.contentLength
    this.bodyMode = bodyFraming(fh)
    this.owner.onHead(buf, start, end)
    if (this.state === State.Dead) return -1
    switch (this.bodyMode) {
      case BodyFraming.Length: this.state = State.Length; this.remaining = this.contentLength; break
      case BodyFraming.Chunked: this.state = State.Chunked; this.chunks.reset(); break
      case BodyFraming.UntilClose: this.state = State.UntilClose; break
      default: this.complete(); break
    }
    return end
  }

  /**
   * Reads the status line and the framing fields of the head at `buf[start...]`. Returns the
   * offset after its empty line, 0 when the head is not complete in `buf`, -1 on an error. Only
   * complete lines are judged, so a head cut anywhere parses the same as a whole one.
   */
  private parseHead(buf: Buffer, start: number): number {
    const last = this.lastHead
    const length = this.lastHeadLength
    if (last !== null && buf.length - start >= length && buf.compare(last, 0, length, start, start + length) === 0) {
      this.status = this.lastStatus
      this.versionMinor = this.lastVersionMinor
      this.contentLength = this.lastContentLength
      const f = this.lastFlags
      this.hasTransferEncoding = (f & 1) !== 0
      this.chunked = (f & 2) !== 0
      this.connectionClose = (f & 4) !== 0
      this.connectionKeepAlive = (f & 8) !== 0
      this.keepAliveTimeout = this.lastKeepAliveTimeout
      return start + length
    }
    const end = this.scanHead(buf, start)
    if (end > 0 && end - start <= 1024) this.rememberHead(buf, start, end)
    return end
  }

  /** Keeps a copy of the head just parsed, and its values, for parseHead's compare. */
  private rememberHead(buf: Buffer, start: number, end: number): void {
    const length = end - start
    if (this.lastHead === null) this.lastHead = Buffer.allocUnsafe(1024)
    buf.copy(this.lastHead, 0, start, end)
    this.lastHeadLength = length
    this.lastStatus = this.status
    this.lastVersionMinor = this.versionMinor
    this.lastContentLength = this.contentLength
    this.lastFlags = (this.hasTransferEncoding ? 1 : 0) | (this.chunked ? 2 : 0) | (this.connectionClose ? 4 : 0) | (this.connectionKeepAlive ? 8 : 0)
    this.lastKeepAliveTimeout = this.keepAliveTimeout
  }

  /** parseHead's scan, byte by byte. */
  private scanHead(buf: Buffer, start: number): number {
    const n = buf.length
    this.contentLength = -1
    this.hasTransferEncoding = false
    this.chunked = false
    this.connectionClose = false
    this.connectionKeepAlive = false
    this.keepAliveTimeout = -1
    // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 section 4)
    let p = start
    while (p < n && buf[p] !== LF) p++
    if (p === n) return p - start > MAX_HEAD ? this.fail(`response head longer than ${MAX_HEAD} bytes`, 'head-too-large') : 0
    if (startLineKind(buf, start, lineEnd(buf, start, p)) !== StartLine.Status) {
      return this.fail(`malformed status line '${printable(buf, start, Math.min(p, start + 40))}'`)
    }
    this.versionMinor = buf[start + 7] - 48
    this.status = statusOf(buf, start)
    if (this.status < 100) return this.fail(`invalid status code ${this.status}`)
    p++
    for (;;) {
      let lf = p
      while (lf < n && buf[lf] !== LF) lf++
      // A head that keeps growing is refused as soon as it passes MAX_HEAD (no waiting for its end).
      if (lf === n) return lf - start > MAX_HEAD ? this.fail(`response head longer than ${MAX_HEAD} bytes`, 'head-too-large') : 0
      let le = lf
      if (le > p && buf[le - 1] === CR) le--
      if (le === p) return lf + 1 // the empty line
      const first = buf[p]
      if (first === SP || first === HT) { p = lf + 1; continue } // obs-fold: a continuation (RFC 9112 section 5.2)
      let colon = p
      while (colon < le && buf[colon] !== 0x3a) colon++
      if (colon >= le || colon === p) return this.fail(`malformed header line '${printable(buf, p, Math.min(le, p + 40))}'`)
      if (buf[colon - 1] === SP || buf[colon - 1] === HT) return this.fail('whitespace between header name and colon (RFC 9112 section 5.1)')
      let vs = colon + 1
      while (vs < le && (buf[vs] === SP || buf[vs] === HT)) vs++
      let ve = le
      while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--
      if (!this.field(buf, p, colon, vs, ve)) return -1
      p = lf + 1
    }
  }

  /** Interprets one header field if it matters for framing or persistence. */
  private field(buf: Buffer, ns: number, ne: number, vs: number, ve: number): boolean {
    const len = ne - ns
    const c = buf[ns] | 0x20
    if (len === 14 && c === 0x63 && nameIs(buf, ns, 'content-length')) {
      const value = contentLengthValue(buf, vs, ve)
      if (value === CONTENT_LENGTH_INVALID) return this.fail(`invalid Content-Length '${printable(buf, vs, ve)}'`) < 0 && false
      if (this.contentLength >= 0 && this.contentLength !== value) return this.fail('conflicting Content-Length fields') < 0 && false
      this.contentLength = value
    } else if (len === 17 && c === 0x74 && nameIs(buf, ns, 'transfer-encoding')) {
      this.hasTransferEncoding = true
      this.chunked = finalCodingIsChunked(buf, vs, ve)
    } else if (len === 10 && c === 0x63 && nameIs(buf, ns, 'connection')) {
      let p = vs
      while (p < ve) {
        while (p < ve && (buf[p] === SP || buf[p] === HT || buf[p] === 0x2c)) p++
        let q = p
        while (q < ve && buf[q] !== 0x2c && buf[q] !== SP && buf[q] !== HT) q++
        if (q - p === 5 && nameIs(buf, p, 'close')) this.connectionClose = true
        else if (q - p === 10 && nameIs(buf, p, 'keep-alive')) this.connectionKeepAlive = true
        p = q
      }
    } else if (len === 10 && c === 0x6b && nameIs(buf, ns, 'keep-alive')) {
      // Keep-Alive: timeout=5, max=100 (RFC 2068 section 19.7.1.1; still sent by nginx/Apache).
      for (let p = vs; p + 8 <= ve; p++) {
        if ((buf[p] | 0x20) === 0x74 && nameIs(buf, p, 'timeout=')) {
          let v = 0
          let q = p + 8
          let digits = 0
          while (q < ve && isDigit(buf[q]) && digits < 9) { v = v * 10 + buf[q] - 48; q++; digits++ }
          if (digits > 0) this.keepAliveTimeout = v
          break
        }
      }
    }
    return true
  }

  /** Reads chunked body bytes with framing.ts's ChunkedReader; keeps an unfinished line for the next feed. */
  private chunkedBody(buf: Buffer, start: number): number {
    const r = this.chunks
    const p = r.advance(buf, start, buf.length, this.onChunkData)
    if ((this.state as State) === State.Dead) return -1
    this.messageBytes += p - start
    switch (r.phase) {
      case ChunkPhase.Error: return this.fail(`${r.error} '${printable(buf, p, Math.min(buf.length, p + 20))}'`)
      case ChunkPhase.Done:
        this.owner.onTrailers(buf, r.trailersFrom, r.trailersTo)
        if (this.state === State.Dead) return -1
        this.complete()
        return p
    }
    if (p === buf.length) return p
    return r.phase === ChunkPhase.Trailers
      ? this.stash(buf, p, MAX_HEAD, 'trailer section')
      : this.stash(buf, p, MAX_CHUNK_LINE, 'chunk size line')
  }

  private complete(): void {
    this.state = State.Head
    this.messageBytes = 0
    this.owner.onComplete()
  }
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39
}

const nameIs = asciiLowerIs

/** A short printable rendering of bytes for error messages. */
function printable(buf: Buffer, start: number, end: number): string {
  return buf.toString('latin1', start, end).replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/** Splits a header (or trailer) block into [name, value] pairs; the status line is skipped. */
export function parseHeaderBlock(block: Buffer, start: number, end: number, hasStatusLine: boolean): Array<[string, string]> {
  const text = block.toString('latin1', start, end)
  const lines = text.split(/\r?\n/)
  const out: Array<[string, string]> = []
  for (let i = hasStatusLine ? 1 : 0; i < lines.length; i++) {
    const line = lines[i]
    if (line === '') continue
    if ((line[0] === ' ' || line[0] === '\t') && out.length > 0) {
      out[out.length - 1][1] += ` ${line.trim()}`
      continue
    }
    const colon = line.indexOf(':')
    if (colon > 0) out.push([line.slice(0, colon), line.slice(colon + 1).trim()])
  }
  return out
}

/** The reason phrase of a status line in `block[start, ...)`. */
export function reasonPhrase(block: Buffer, start: number): string {
  const lf = block.indexOf(LF, start)
  return block.toString('latin1', start + 13, lf > 0 && block[lf - 1] === CR ? lf - 1 : lf).trim()
}
