/**
 * HTTP/1 message framing (RFC 9112), the one copy netkit has: where a message starts, how long
 * its body is (section 6.3), and the chunked transfer coding (section 7.1). The transport's
 * ResponseParser, the stream reader HttpWireParser and the http dissector plugin all frame
 * messages with these functions, so `netkit http`, `http-log` and `read -e http.*` agree on
 * where every message ends. Everything works on bytes in place (`data[from, to)`), allocates
 * nothing, and never throws on hostile input: an invalid value is a return code.
 */

/** How a message body is delimited (RFC 9112 section 6.3). */
export const BodyFraming = {
  /** No body: HEAD responses, 1xx, 204, 304, 2xx to CONNECT, and requests without a length. */
  None: 0,
  /** Content-Length bytes. */
  Length: 1,
  /** The chunked transfer coding (section 7.1). */
  Chunked: 2,
  /** A response that ends when the connection closes. */
  UntilClose: 3,
  /** A request with a Transfer-Encoding whose final coding is not chunked: unframeable (section 6.3 rule 4). */
  Invalid: 4,
} as const
export type BodyFraming = (typeof BodyFraming)[keyof typeof BodyFraming]

/** What section 6.3 needs to know about a message's head. */
export interface FramingHead {
  isResponse: boolean
  /** Status code (responses). */
  status: number
  /** The method of the request a response answers ('' when unknown). */
  requestMethod: string
  /** A Transfer-Encoding field was present. */
  hasTransferEncoding: boolean
  /** Its final coding is chunked. */
  chunked: boolean
  /** Content-Length, or -1 when absent. */
  contentLength: number
}

/** True for a status whose response never has a body (RFC 9110 sections 15.2, 15.3.5, 15.4.5). */
export function statusHasNoBody(status: number): boolean {
  return (status >= 100 && status < 200) || status === 204 || status === 304
}

/** The body framing of a message, by the rules of RFC 9112 section 6.3, in their order. */
export function bodyFraming(m: FramingHead): BodyFraming {
  if (m.isResponse) {
    if (m.requestMethod === 'HEAD' || statusHasNoBody(m.status)) return BodyFraming.None
    if (m.requestMethod === 'CONNECT' && m.status >= 200 && m.status < 300) return BodyFraming.None
  }
  if (m.hasTransferEncoding) {
    if (m.chunked) return BodyFraming.Chunked
    return m.isResponse ? BodyFraming.UntilClose : BodyFraming.Invalid
  }
  if (m.contentLength > 0) return BodyFraming.Length
  if (m.contentLength === 0 || !m.isResponse) return BodyFraming.None
  return BodyFraming.UntilClose
}

const CR = 13
const LF = 10
const SP = 32
const HT = 9
const COMMA = 0x2c

/** Content-Length value codes besides a length. */
export const CONTENT_LENGTH_INVALID = -2

/**
 * The value of a Content-Length field `data[from, to)`: a decimal number, or a list of identical
 * ones (RFC 9110 section 8.6), white space around; CONTENT_LENGTH_INVALID for anything else
 * (a message with it cannot be framed, RFC 9112 section 6.3 rule 5).
 */
export function contentLengthValue(data: Uint8Array, from: number, to: number): number {
  let value = -1
  let p = from
  while (p < to && (data[p] === SP || data[p] === HT)) p++
  while (to > p && (data[to - 1] === SP || data[to - 1] === HT || data[to - 1] === CR)) to--
  if (p === to) return CONTENT_LENGTH_INVALID
  while (p < to) {
    let v = 0
    let digits = 0
    while (p < to && data[p] >= 0x30 && data[p] <= 0x39) { v = v * 10 + data[p] - 0x30; p++; digits++ }
    if (digits === 0 || v > Number.MAX_SAFE_INTEGER) return CONTENT_LENGTH_INVALID
    if (value >= 0 && v !== value) return CONTENT_LENGTH_INVALID
    value = v
    while (p < to && (data[p] === SP || data[p] === HT)) p++
    if (p < to) {
      if (data[p] !== COMMA) return CONTENT_LENGTH_INVALID
      p++
      while (p < to && (data[p] === SP || data[p] === HT)) p++
    }
  }
  return value
}

/**
 * Whether a Transfer-Encoding value `data[from, to)` has chunked as its final coding (the one
 * that frames the message, RFC 9112 section 6.3 rule 4; a later field line continues the list,
 * RFC 9110 section 5.3, so callers keep the answer of the last line).
 */
export function finalCodingIsChunked(data: Uint8Array, from: number, to: number): boolean {
  while (to > from && (data[to - 1] === SP || data[to - 1] === HT || data[to - 1] === CR)) to--
  if (to - from < 7) return false
  const s = to - 7
  if (s > from && data[s - 1] !== COMMA && data[s - 1] !== SP && data[s - 1] !== HT) return false
  return asciiLowerIs(data, s, 'chunked')
}

/** Case-insensitive compare of `data` at `at` with a lower-case ASCII literal. */
export function asciiLowerIs(data: Uint8Array, at: number, lower: string): boolean {
  if (at + lower.length > data.length) return false
  for (let i = 0; i < lower.length; i++) if ((data[at + i] | 0x20) !== lower.charCodeAt(i)) return false
  return true
}

/** What a line is, for startLineKind. */
export const StartLine = { None: 0, Request: 1, Status: 2 } as const
export type StartLine = (typeof StartLine)[keyof typeof StartLine]

/**
 * Whether `data[from, to)` (a line, without its line end) is a start line (RFC 9112 section 3
 * and 4): a request line `METHOD SP target SP HTTP/1.x`, the method a token of capitals, '-' or
 * '_' (3 to 20 of them), or a status line `HTTP/1.x SP ddd [SP reason]`.
 */
export function startLineKind(data: Uint8Array, from: number, to: number): StartLine {
  if (to - from >= 12 && data[from] === 0x48 && data[from + 1] === 0x54 && data[from + 2] === 0x54 && data[from + 3] === 0x50 &&
      data[from + 4] === 0x2f && data[from + 5] === 0x31 && data[from + 6] === 0x2e && isDigit(data[from + 7]) &&
      data[from + 8] === SP && isDigit(data[from + 9]) && isDigit(data[from + 10]) && isDigit(data[from + 11]) &&
      (to - from === 12 || data[from + 12] === SP)) {
    return StartLine.Status
  }
  let p = from
  while (p < to && p - from <= 20 && ((data[p] >= 0x41 && data[p] <= 0x5a) || data[p] === 0x5f || data[p] === 0x2d)) p++
  if (p - from < 3 || p - from > 20 || p >= to || data[p] !== SP) return StartLine.None
  // ... SP HTTP/1.x at the end, with a target between.
  const v = to - 8
  if (v - 1 <= p || data[v - 1] !== SP) return StartLine.None
  if (!(data[v] === 0x48 && data[v + 1] === 0x54 && data[v + 2] === 0x54 && data[v + 3] === 0x50 && data[v + 4] === 0x2f &&
        data[v + 5] === 0x31 && data[v + 6] === 0x2e && isDigit(data[v + 7]))) return StartLine.None
  return StartLine.Request
}

/** The status code of a status line at `data[from...]` that startLineKind accepted. */
export function statusOf(data: Uint8Array, from: number): number {
  return (data[from + 9] - 48) * 100 + (data[from + 10] - 48) * 10 + (data[from + 11] - 48)
}

/** The end of the line starting at `from` without its CR LF or LF: `lf`, or `lf - 1` after a CR. */
export function lineEnd(data: Uint8Array, from: number, lf: number): number {
  return lf > from && data[lf - 1] === CR ? lf - 1 : lf
}

/** Phases of a chunked body (ChunkedReader.phase). */
export const ChunkPhase = { Size: 0, Data: 1, DataEnd: 2, Trailers: 3, Done: 4, Error: 5 } as const
export type ChunkPhase = (typeof ChunkPhase)[keyof typeof ChunkPhase]

/** Longest chunk-size line (with extensions) accepted. */
export const MAX_CHUNK_LINE = 4096

/**
 * ChunkedReader: a chunked body (RFC 9112 section 7.1) read incrementally. `advance` consumes
 * whole units only (a size line, data, the CRLF after data, the whole trailer section); when a
 * line is not complete it stops there and the caller keeps the bytes from the returned offset
 * and calls again with more. It holds no bytes itself.
 */
export class ChunkedReader {
  phase: ChunkPhase = ChunkPhase.Size
  /** Data bytes left in the current chunk. */
  remaining = 0
  /** After the trailer section was consumed: it was `data[trailersFrom, trailersTo)` of that call. */
  trailersFrom = 0
  trailersTo = 0
  /** Why phase is Error. */
  error = ''

  /** Starts a new body. */
  reset(): void {
    this.phase = ChunkPhase.Size
    this.remaining = 0
    this.error = ''
  }

  /**
   * Advances over `data[p, end)` and returns the offset reached. Chunk data `data[a, b)` is given
   * to `onData` as it passes. Stops early at Done, at Error, and before an incomplete line.
   */
  advance(data: Uint8Array, p: number, end: number, onData?: (data: Uint8Array, start: number, end: number) => void): number {
    while (p < end) {
      switch (this.phase) {
        case ChunkPhase.Size: {
          const lf = indexOfLf(data, p, end)
          if (lf < 0) {
            if (end - p > MAX_CHUNK_LINE) return this.fail(p, 'chunk size line too long')
            return p
          }
          if (lf - p > MAX_CHUNK_LINE) return this.fail(p, 'chunk size line too long')
          // chunk-size = 1*HEXDIG, then optional extensions after BWS ';' (section 7.1.1).
          const le = lineEnd(data, p, lf)
          let q = p
          let size = 0
          while (q < le) {
            const h = hexValue(data[q])
            if (h < 0) break
            size = size * 16 + h
            q++
          }
          if (q === p || size > Number.MAX_SAFE_INTEGER || (q < le && data[q] !== 0x3b && data[q] !== SP && data[q] !== HT)) {
            return this.fail(p, 'invalid chunk size')
          }
          p = lf + 1
          if (size === 0) this.phase = ChunkPhase.Trailers
          else {
            this.phase = ChunkPhase.Data
            this.remaining = size
          }
          break
        }
        case ChunkPhase.Data: {
          const take = Math.min(this.remaining, end - p)
          this.remaining -= take
          if (onData !== undefined) onData(data, p, p + take)
          p += take
          if (this.remaining === 0) this.phase = ChunkPhase.DataEnd
          break
        }
        case ChunkPhase.DataEnd: {
          if (data[p] === LF) { p++; this.phase = ChunkPhase.Size; break }
          if (data[p] !== CR) return this.fail(p, 'chunk data not followed by CRLF')
          if (p + 1 === end) return p
          if (data[p + 1] !== LF) return this.fail(p, 'chunk data not followed by CRLF')
          p += 2
          this.phase = ChunkPhase.Size
          break
        }
        case ChunkPhase.Trailers: {
          // The trailer section is taken whole: field lines up to the empty line.
          let q = p
          for (;;) {
            const lf = indexOfLf(data, q, end)
            if (lf < 0) return p
            if (lf === q || (lf === q + 1 && data[q] === CR)) {
              this.trailersFrom = p
              this.trailersTo = q
              this.phase = ChunkPhase.Done
              return lf + 1
            }
            q = lf + 1
          }
        }
        default:
          return p
      }
    }
    return p
  }

  private fail(p: number, why: string): number {
    this.phase = ChunkPhase.Error
    this.error = why
    return p
  }
}

function indexOfLf(data: Uint8Array, from: number, end: number): number {
  const i = data.indexOf(LF, from)
  return i < 0 || i >= end ? -1 : i
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
