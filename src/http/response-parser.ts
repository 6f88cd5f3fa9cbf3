/**
 * ResponseParser: an incremental HTTP/1.1 response parser that works on the Buffers as they come
 * off the socket. The status line and the framing header fields are read byte by byte; bodies are
 * never converted to strings, only counted or handed on as slices. It frames every response as
 * RFC 9112 section 6.3 says: no body for HEAD, 1xx, 204 and 304; chunked when the final transfer
 * coding is chunked (RFC 9112 section 7.1, trailers included); read until close when another
 * transfer coding or no length is given; else Content-Length.
 */

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
  /** The bytes are not a valid response; the connection is unusable. */
  onParseError(message: string): void
}

/** How the body of the current response is delimited. */
export const enum BodyMode { None = 0, Length = 1, Chunked = 2, UntilClose = 3 }

const enum State { Head, Length, ChunkSize, ChunkData, ChunkDataEnd, Trailers, UntilClose, Dead }

/** Largest response head accepted (Go's default MaxResponseHeaderBytes is 1 MiB). */
const MAX_HEAD = 1 << 20
const MAX_LINE = 4096
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
  bodyMode: BodyMode = BodyMode.None
  /** Bytes of the current response seen so far (interim responses included). */
  messageBytes = 0

  private state = State.Head
  private pending: Buffer | null = null
  private remaining = 0
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

  constructor(private readonly owner: ResponseParserOwner) {}

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
        case State.ChunkSize: p = this.chunkSize(buf, p); break
        case State.ChunkData: {
          const take = Math.min(this.remaining, n - p)
          this.remaining -= take
          this.owner.onBody(buf, p, p + take)
          p += take
          if (this.remaining === 0 && this.state === State.ChunkData) this.state = State.ChunkDataEnd
          break
        }
        case State.ChunkDataEnd: p = this.chunkDataEnd(buf, p); break
        case State.Trailers: p = this.trailers(buf, p); break
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

  private fail(message: string): number {
    this.state = State.Dead
    this.pending = null
    this.owner.onParseError(message)
    return -1
  }

  /** Keeps the unfinished tail for the next feed; -1 stops this feed. */
  private stash(buf: Buffer, from: number, limit: number, what: string): number {
    if (buf.length - from > limit) return this.fail(`${what} longer than ${limit} bytes`)
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
    if (end - start > MAX_HEAD) return this.fail(`response head longer than ${MAX_HEAD} bytes`)
    this.messageBytes += end - start
    const status = this.status
    if (status >= 100 && status < 200 && status !== 101) {
      this.owner.onInterim(status)
      return this.state === State.Dead ? -1 : end
    }
    const noBody = status < 200 || status === 204 || status === 304 || this.owner.expectsNoBody()
    if (noBody) this.bodyMode = BodyMode.None
    else if (this.hasTransferEncoding) this.bodyMode = this.chunked ? BodyMode.Chunked : BodyMode.UntilClose
    else if (this.contentLength >= 0) this.bodyMode = this.contentLength === 0 ? BodyMode.None : BodyMode.Length
    else this.bodyMode = BodyMode.UntilClose
    this.owner.onHead(buf, start, end)
    if (this.state === State.Dead) return -1
    switch (this.bodyMode) {
      case BodyMode.None: this.complete(); break
      case BodyMode.Length: this.state = State.Length; this.remaining = this.contentLength; break
      case BodyMode.Chunked: this.state = State.ChunkSize; break
      case BodyMode.UntilClose: this.state = State.UntilClose; break
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
    if (p === n) return 0
    if (p + 1 - start < 13 || buf[start] !== 0x48 || buf[start + 1] !== 0x54 || buf[start + 2] !== 0x54 || buf[start + 3] !== 0x50 ||
        buf[start + 4] !== 0x2f || buf[start + 5] !== 0x31 || buf[start + 6] !== 0x2e || !isDigit(buf[start + 7]) ||
        buf[start + 8] !== SP || !isDigit(buf[start + 9]) || !isDigit(buf[start + 10]) || !isDigit(buf[start + 11]) ||
        (buf[start + 12] !== SP && buf[start + 12] !== CR && buf[start + 12] !== LF)) {
      return this.fail(`malformed status line '${printable(buf, start, Math.min(p, start + 40))}'`)
    }
    this.versionMinor = buf[start + 7] - 48
    this.status = (buf[start + 9] - 48) * 100 + (buf[start + 10] - 48) * 10 + (buf[start + 11] - 48)
    if (this.status < 100) return this.fail(`invalid status code ${this.status}`)
    p++
    for (;;) {
      let lf = p
      while (lf < n && buf[lf] !== LF) lf++
      if (lf === n) return 0
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
      // A list of identical values is one value (RFC 9110 section 8.6); anything else is fatal.
      let value = -1
      let p = vs
      while (p < ve) {
        let v = 0
        let digits = 0
        while (p < ve && isDigit(buf[p])) { v = v * 10 + buf[p] - 48; p++; digits++ }
        if (digits === 0 || v > Number.MAX_SAFE_INTEGER) return this.fail(`invalid Content-Length '${printable(buf, vs, ve)}'`) < 0 && false
        if (value >= 0 && v !== value) return this.fail(`conflicting Content-Length values '${printable(buf, vs, ve)}'`) < 0 && false
        value = v
        while (p < ve && (buf[p] === SP || buf[p] === HT)) p++
        if (p < ve) {
          if (buf[p] !== 0x2c) return this.fail(`invalid Content-Length '${printable(buf, vs, ve)}'`) < 0 && false
          p++
          while (p < ve && (buf[p] === SP || buf[p] === HT)) p++
        }
      }
      if (value < 0) return this.fail('empty Content-Length') < 0 && false
      if (this.contentLength >= 0 && this.contentLength !== value) return this.fail('conflicting Content-Length fields') < 0 && false
      this.contentLength = value
    } else if (len === 17 && c === 0x74 && nameIs(buf, ns, 'transfer-encoding')) {
      // The final coding decides; a later field line continues the list (RFC 9110 section 5.3).
      this.hasTransferEncoding = true
      let ts = vs
      for (let i = ve - 1; i >= vs; i--) if (buf[i] === 0x2c) { ts = i + 1; break }
      while (ts < ve && (buf[ts] === SP || buf[ts] === HT)) ts++
      this.chunked = ve - ts === 7 && nameIs(buf, ts, 'chunked')
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

  private chunkSize(buf: Buffer, start: number): number {
    const lf = buf.indexOf(LF, start)
    if (lf < 0) return this.stash(buf, start, MAX_LINE, 'chunk size line')
    if (lf - start > MAX_LINE) return this.fail('chunk size line too long')
    this.messageBytes += lf + 1 - start
    // chunk-size = 1*HEXDIG, then optional chunk extensions after BWS ';' (RFC 9112 section 7.1.1)
    let p = start
    let size = 0
    while (p < lf) {
      const h = hexValue(buf[p])
      if (h < 0) break
      size = size * 16 + h
      p++
    }
    if (p === start || size > Number.MAX_SAFE_INTEGER) return this.fail(`invalid chunk size '${printable(buf, start, Math.min(lf, start + 20))}'`)
    let le = lf
    if (le > p && buf[le - 1] === CR) le--
    if (p < le && buf[p] !== 0x3b && buf[p] !== SP && buf[p] !== HT) return this.fail(`invalid chunk size '${printable(buf, start, Math.min(le, start + 20))}'`)
    if (size === 0) {
      this.state = State.Trailers
    } else {
      this.state = State.ChunkData
      this.remaining = size
    }
    return lf + 1
  }

  private chunkDataEnd(buf: Buffer, start: number): number {
    const lf = buf.indexOf(LF, start)
    if (lf < 0) return this.stash(buf, start, 2, 'chunk data end')
    if (!(lf === start || (lf === start + 1 && buf[start] === CR))) return this.fail('chunk data not followed by CRLF')
    this.state = State.ChunkSize
    return lf + 1
  }

  private trailers(buf: Buffer, start: number): number {
    // The trailer section is re-scanned from its first byte whenever it arrives in pieces.
    let p = start
    for (;;) {
      const lf = buf.indexOf(LF, p)
      if (lf < 0) return this.stash(buf, start, MAX_HEAD, 'trailer section')
      if (lf === p || (lf === p + 1 && buf[p] === CR)) {
        this.owner.onTrailers(buf, start, p)
        if (this.state === State.Dead) return -1
        this.complete()
        return lf + 1
      }
      p = lf + 1
    }
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

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30
  const l = b | 0x20
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10
  return -1
}

/** Case-insensitive compare of buf at `at` with a lowercase ASCII literal. */
function nameIs(buf: Buffer, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((buf[at + i] | 0x20) !== lower.charCodeAt(i)) return false
  }
  return true
}

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
