// @ts-check
// HTTP/1.x (RFC 9112) messages that start in this segment: request line or status line, the
// headers tshark shows as fields, and the body's framing. Reached from the usual ports and, as
// tshark does, by recognising a request or status line on any TCP port.
import { BodyFraming, ChunkPhase, ChunkedReader, CONTENT_LENGTH_INVALID, StartLine, bodyFraming, contentLengthValue, defineDissector, finalCodingIsChunked, lineEnd, startLineKind, statusOf } from 'netkit/plugin'

const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE']

/** Fields set from header lines, by lower-case header name. */
const HEADER_FIELDS = {
  host: 'host',
  'user-agent': 'userAgent',
  'content-type': 'contentType',
  'content-length': 'contentLengthHeader',
  connection: 'connection',
  server: 'server',
  'transfer-encoding': 'transferEncoding',
  accept: 'accept',
  location: 'location',
  'cache-control': 'cacheControl',
  'last-modified': 'lastModified',
  date: 'date',
  cookie: 'cookie',
  'set-cookie': 'setCookie',
  referer: 'referer',
  authorization: 'authorization',
  'accept-encoding': 'acceptEncoding',
  'content-encoding': 'contentEncoding',
}

const http = defineDissector({
  name: 'http',
  handsOn: ['media_type'],
  title: 'Hypertext Transfer Protocol',
  fields: {
    request: { name: 'http.request', type: 'bool', label: 'Request' },
    response: { name: 'http.response', type: 'bool', label: 'Response' },
    method: { name: 'http.request.method', type: 'string', label: 'Request Method' },
    uri: { name: 'http.request.uri', type: 'string', label: 'Request URI' },
    requestVersion: { name: 'http.request.version', type: 'string', label: 'Request Version' },
    responseVersion: { name: 'http.response.version', type: 'string', label: 'Response Version' },
    code: { name: 'http.response.code', type: 'uint', label: 'Status Code' },
    phrase: { name: 'http.response.phrase', type: 'string', label: 'Response Phrase' },
    host: { name: 'http.host', type: 'string', label: 'Host' },
    userAgent: { name: 'http.user_agent', type: 'string', label: 'User-Agent' },
    contentType: { name: 'http.content_type', type: 'string', label: 'Content-Type' },
    contentLengthHeader: { name: 'http.content_length_header', type: 'string', label: 'Content-Length' },
    contentLength: { name: 'http.content_length', type: 'uint', label: 'Content length' },
    connection: { name: 'http.connection', type: 'string', label: 'Connection' },
    server: { name: 'http.server', type: 'string', label: 'Server' },
    transferEncoding: { name: 'http.transfer_encoding', type: 'string', label: 'Transfer-Encoding' },
    accept: { name: 'http.accept', type: 'string', label: 'Accept' },
    location: { name: 'http.location', type: 'string', label: 'Location' },
    cacheControl: { name: 'http.cache_control', type: 'string', label: 'Cache-Control' },
    lastModified: { name: 'http.last_modified', type: 'string', label: 'Last-Modified' },
    date: { name: 'http.date', type: 'string', label: 'Date' },
    cookie: { name: 'http.cookie', type: 'string', label: 'Cookie' },
    setCookie: { name: 'http.set_cookie', type: 'string', label: 'Set-Cookie' },
    referer: { name: 'http.referer', type: 'string', label: 'Referer' },
    authorization: { name: 'http.authorization', type: 'string', label: 'Authorization' },
    acceptEncoding: { name: 'http.accept_encoding', type: 'string', label: 'Accept-Encoding' },
    contentEncoding: { name: 'http.content_encoding', type: 'string', label: 'Content-Encoding' },
  },
  register: [80, 8080, 3128, 8000, 8008, 8088].map((key) => ({ table: 'tcp.port', key })),
  heuristic: ['tcp.port'],
  recognize(view) {
    return startLine(view) !== 0
  },
  dissect(view, ctx, f) {
    const kind = startLine(view)
    // Bytes on an HTTP port that start no message: the rest of one whose start was not seen
    // (tshark's "Continuation"), not damage.
    if (kind === 0) {
      if (ctx.wantsInfo) ctx.info(': HTTP', true)
      return
    }
    const whole = view.captured === view.reported
    const eol = startLf < 0 ? view.captured : startLf
    // The header block frames the message, which matters only over a stream: a message whose
    // headers are not all here waits for more segments (its fields then land on the frame that
    // completes it, as tshark shows them).
    let bodyStart = -1
    if (ctx.flow >= 0) {
      scanHead(view, eol)
      bodyStart = head.bodyStart
      if (!head.complete && whole) return ctx.needMore(1)
    }
    const lineEnd = eol > 0 && view.u8(eol - 1) === 0x0d ? eol - 1 : eol
    const methods = ctx.flow >= 0 ? ctx.state('http.methods', newMethodTable) : undefined
    const connection = ctx.flow >> 1
    let method = ''
    let status = 0
    if (kind === 1) {
      method = startMethod
      ctx.set(f.request, 1)
      ctx.setText(f.method, method)
      if (ctx.wants(f.uri) || ctx.wants(f.requestVersion)) {
        // The line split at its spaces: the method, the target (spaces and all), the version.
        const first = view.indexOf(0x20, 0, lineEnd)
        let last = lineEnd - 1
        while (view.u8(last) !== 0x20) last--
        if (ctx.wants(f.uri)) ctx.setText(f.uri, view.text(first + 1, Math.max(0, last - first - 1)))
        if (ctx.wants(f.requestVersion)) ctx.setText(f.requestVersion, view.text(last + 1, lineEnd - last - 1))
      }
    } else {
      status = statusOf(view.data, view.offset)
      ctx.set(f.response, 1)
      if (ctx.wants(f.responseVersion) || ctx.wants(f.code) || ctx.wants(f.phrase)) {
        const parts = view.text(0, lineEnd).split(' ')
        ctx.setText(f.responseVersion, parts[0])
        ctx.set(f.code, status)
        ctx.setText(f.phrase, parts.slice(2).join(' '))
      }
    }
    // Nothing below reads past the captured bytes, so this stands as info() would have it (the
    // engine undoes an infoLine() only for a layer that throws).
    if (ctx.wantsInfo) ctx.infoLine(true).text(': HTTP: ').latin1(view.data, view.offset, view.offset + lineEnd)
    if (wantsHeaderFields(ctx, f)) headerFields(view, ctx, f, eol)
    if (ctx.flow < 0 || bodyStart < 0) return
    // The body's length (RFC 9112 section 6.3, netkit's shared framing rules), to know where this message ends.
    const queue = methods?.get(connection)
    framing.isResponse = kind === 2
    framing.status = status
    framing.requestMethod = kind === 2 ? queue?.[0] ?? '' : method
    framing.hasTransferEncoding = head.hasTransferEncoding
    framing.chunked = head.chunked
    framing.contentLength = head.contentLength
    let body = 0
    switch (bodyFraming(framing)) {
      case BodyFraming.Chunked:
        body = chunkedLength(view, bodyStart)
        if (body < 0) return whole ? ctx.needMore(1) : undefined
        break
      case BodyFraming.Length:
        body = head.contentLength
        break
      case BodyFraming.UntilClose: {
        // Read until the server closes: complete at its FIN (the connection ends with it).
        ctx.needMore(-1)
        const mediaType = mediaTypeOf(view)
        if (mediaType) ctx.next('media_type', mediaType, bodyStart)
        return
      }
    }
    const total = bodyStart + body
    if (total > view.captured) return whole ? ctx.needMore(total - view.captured) : undefined
    ctx.pduLength(total)
    // The message is complete: keep the request methods in step with the responses.
    if (methods) {
      if (kind === 1) {
        if (queue) {
          // A capture of one direction answers nothing: keep the latest MAX_PENDING requests.
          if (queue.length >= MAX_PENDING) queue.shift()
          queue.push(method)
        } else {
          // Bounded by live connections, not by the file: connections with every request
          // answered are dropped now and then, and past MAX_CONNECTIONS the connection that was
          // seen first (a Map iterates in insertion order) gives up its queue.
          if (methods.size >= methods.sweepAt) dropAnswered(methods)
          if (methods.size >= MAX_CONNECTIONS) methods.delete(methods.keys().next().value)
          methods.set(connection, [method])
        }
      } else if (queue && !(status >= 100 && status < 200)) queue.shift()
    }
    if (body > 0) {
      const mediaType = mediaTypeOf(view)
      if (mediaType) ctx.next('media_type', mediaType, bodyStart)
    }
  },
})

/** @typedef {keyof typeof HEADER_FIELDS} HeaderName */

/**
 * The names of HEADER_FIELDS as bytes, by length: a header line's name is matched in place,
 * with no string made for it.
 */
const HEADERS_BY_LENGTH = /** @type {Array<Array<{ codes: Uint8Array, name: HeaderName }>>} */ ([])
for (const name of /** @type {HeaderName[]} */ (Object.keys(HEADER_FIELDS))) {
  (HEADERS_BY_LENGTH[name.length] ??= []).push({ codes: Uint8Array.from(name, (c) => c.charCodeAt(0)), name })
}

/**
 * The header name at view bytes [from, to), compared as lower case (header names are
 * case-insensitive, RFC 9110 section 5.1), or undefined when it is none of HEADER_FIELDS.
 * @param {import('netkit').ByteView} view @param {number} from @param {number} to
 * @returns {HeaderName | undefined}
 */
function headerAt(view, from, to) {
  const candidates = HEADERS_BY_LENGTH[to - from]
  if (candidates === undefined) return undefined
  const data = view.data
  const at = view.offset + from
  next: for (let c = 0; c < candidates.length; c++) {
    const codes = candidates[c].codes
    for (let i = 0; i < codes.length; i++) {
      let b = data[at + i]
      if (b >= 0x41 && b <= 0x5a) b |= 0x20
      if (b !== codes[i]) continue next
    }
    return candidates[c].name
  }
  return undefined
}

/**
 * What one pass over the header block found (reused: one message at a time): where the body
 * starts (-1 when no blank line is captured), whether that blank line ends in LF (`complete`),
 * and the last Content-Length that is all digits, Transfer-Encoding ending in chunked, and
 * Content-Type value (its view offsets).
 */
const head = { bodyStart: -1, complete: false, contentLength: -1, hasTransferEncoding: false, chunked: false, typeFrom: -1, typeTo: -1 }

/** What bodyFraming() is asked (reused, as `head`). */
const framing = { isResponse: false, status: 0, requestMethod: '', hasTransferEncoding: false, chunked: false, contentLength: -1 }

/**
 * Fills `head` from the header lines after the start line (which ends at `eol`): one pass over
 * the line ends. Only a line whose name starts with c or t (any case) can be one of the framing
 * headers headerLine() notes, so only those are searched for their first colon.
 * @param {import('netkit').ByteView} view @param {number} eol
 */
function scanHead(view, eol) {
  head.bodyStart = -1
  head.complete = false
  head.contentLength = -1
  head.hasTransferEncoding = false
  head.chunked = false
  head.typeFrom = -1
  const data = view.data
  const o = view.offset
  const stop = o + view.captured
  let line = o + eol + 1
  while (line < stop) {
    // Buffer's indexOf (memchr) finds a line's end sooner than a loop over its bytes; it stops
    // at the next LF in the buffer, which may lie past the captured bytes.
    const i = data.indexOf(0x0a, line)
    if (i < 0 || i >= stop) break
    const end = i > line && data[i - 1] === 0x0d ? i - 1 : i
    if (end === line) {
      head.bodyStart = i + 1 - o
      head.complete = true
      return
    }
    if (mayFrame(data[line])) framingLine(view, line - o, end - o)
    line = i + 1
  }
  if (line >= stop) return
  // The last line, cut off without its LF: a lone CR there ends no header block yet.
  const end = data[stop - 1] === 0x0d ? stop - 1 : stop
  if (end === line) head.bodyStart = view.captured + 1
  else if (mayFrame(data[line])) framingLine(view, line - o, end - o)
}

/** Whether a header line starting with byte `b` may name Content-*, or Transfer-Encoding. @param {number} b */
const mayFrame = (b) => (b | 0x20) === 0x63 || (b | 0x20) === 0x74

/**
 * headerLine() for the header line at view bytes [from, end), when it has a colon after a name.
 * @param {import('netkit').ByteView} view @param {number} from @param {number} end
 */
function framingLine(view, from, end) {
  const data = view.data
  const o = view.offset
  for (let i = o + from + 1; i < o + end; i++) {
    if (data[i] !== 0x3a) continue
    // Content-Type, Content-Length, Transfer-Encoding: no other name is worth comparing.
    const n = i - o - from
    return n === 12 || n === 14 || n === 17 ? headerLine(view, i - o, end, from) : undefined
  }
}

/**
 * Notes in `head` what the header line [from, end) with its first colon at `colon` says about
 * framing.
 * @param {import('netkit').ByteView} view @param {number} colon @param {number} end @param {number} from
 */
function headerLine(view, colon, end, from) {
  const name = headerAt(view, from, colon)
  if (name === 'content-type') {
    head.typeFrom = colon + 1
    head.typeTo = end
  } else if (name === 'transfer-encoding') {
    head.hasTransferEncoding = true
    head.chunked = finalCodingIsChunked(view.data, view.offset + colon + 1, view.offset + end)
  } else if (name === 'content-length') {
    const n = contentLengthValue(view.data, view.offset + colon + 1, view.offset + end)
    if (n !== CONTENT_LENGTH_INVALID) head.contentLength = n
  }
}

/** Whether a byte is white space to String.prototype.trim and regexp \s (Latin-1: HT LF VT FF CR SP NBSP). @param {number} b */
const isSpace = (b) => (b >= 0x09 && b <= 0x0d) || b === 0x20 || b === 0xa0


/**
 * Media types made so far and the bytes each was made from (a capture repeats a few; at most
 * MEDIA_TYPES_KEPT are kept, the oldest given up first).
 */
const mediaTypeBytes = /** @type {Buffer[]} */ ([])
const mediaTypes = /** @type {string[]} */ ([])
const MEDIA_TYPES_KEPT = 16

/**
 * The media type of the message `head` describes: the Content-Type value before any
 * parameters, trimmed, lower case; '' when there is none.
 * @param {import('netkit').ByteView} view
 */
function mediaTypeOf(view) {
  if (head.typeFrom < 0) return ''
  const data = view.data
  let a = view.offset + head.typeFrom
  let b = view.offset + head.typeTo
  for (let i = a; i < b; i++) if (data[i] === 0x3b) { b = i; break }
  while (a < b && isSpace(data[a])) a++
  while (b > a && isSpace(data[b - 1])) b--
  if (a === b) return ''
  const n = b - a
  next: for (let k = 0; k < mediaTypeBytes.length; k++) {
    const known = mediaTypeBytes[k]
    if (known.length !== n) continue
    for (let i = 0; i < n; i++) if (data[a + i] !== known[i]) continue next
    return mediaTypes[k]
  }
  const type = view.text(a - view.offset, n).toLowerCase()
  if (mediaTypes.length === MEDIA_TYPES_KEPT) { mediaTypeBytes.shift(); mediaTypes.shift() }
  mediaTypeBytes.push(Buffer.from(data.subarray(a, b)))
  mediaTypes.push(type)
  return type
}

/**
 * Whether any field set from header lines is printed (run state: wants() is fixed for a run).
 * @param {import('netkit').DissectContext} ctx @param {Record<string, number>} f
 */
function wantsHeaderFields(ctx, f) {
  if (ctx !== wantsFor.ctx) {
    wantsFor.ctx = ctx
    wantsFor.yes = ctx.wants(f.contentLength) || Object.values(HEADER_FIELDS).some((key) => ctx.wants(f[key]))
  }
  return wantsFor.yes
}
/** wantsHeaderFields' answer for the last context asked (a context is one run's: its wants() do not change). */
const wantsFor = { ctx: /** @type {import('netkit').DissectContext | undefined} */ (undefined), yes: false }

/**
 * Sets the fields of the header lines after the start line (which ends at `eol`), in order.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {Record<string, number>} f @param {number} eol
 */
function headerFields(view, ctx, f, eol) {
  for (let p = eol + 1; p < view.captured;) {
    let e = view.indexOf(0x0a, p)
    if (e < 0) e = view.captured
    const end = e > p && view.u8(e - 1) === 0x0d ? e - 1 : e
    if (end === p) break
    const colon = view.indexOf(0x3a, p, end)
    const name = colon > p ? headerAt(view, p, colon) : undefined
    if (name !== undefined) {
      const key = HEADER_FIELDS[name]
      const id = f[key]
      if (ctx.wants(id) || key === 'contentLengthHeader') {
        const value = view.text(colon + 1, end - colon - 1).trim()
        ctx.setText(id, value)
        if (key === 'contentLengthHeader' && /^\d+$/.test(value)) ctx.set(f.contentLength, Number(value))
      }
    }
    p = e + 1
  }
}

/**
 * Per TCP connection, the methods of the requests not yet answered (a response to HEAD has no
 * body, RFC 9112 section 6.3). At most MAX_CONNECTIONS connections and MAX_PENDING requests
 * per connection are kept. A connection keeps its (empty) queue between requests, so a
 * keep-alive connection allocates nothing per request; `sweepAt` is the size at which the
 * empty ones are dropped.
 * @returns {Map<number, string[]> & { sweepAt: number }}
 */
const newMethodTable = () => Object.assign(new Map(), { sweepAt: SWEEP_MIN })
/** The smallest table size at which answered connections are dropped. */
const SWEEP_MIN = 1024

/**
 * Drops the connections whose requests were all answered, and sets the next sweep at twice the
 * size left (so sweeps cost O(1) a request, amortised).
 * @param {Map<number, string[]> & { sweepAt: number }} methods
 */
function dropAnswered(methods) {
  for (const [connection, queue] of methods) if (queue.length === 0) methods.delete(connection)
  methods.sweepAt = Math.max(SWEEP_MIN, methods.size * 2)
}
const MAX_CONNECTIONS = 65536
const MAX_PENDING = 1024

/**
 * Bytes of a chunked body starting at `at` (chunks, last chunk, trailers), or -1 when it is not
 * all captured yet or is not valid chunked coding. RFC 9112 section 7.1.
 * @param {import('netkit').ByteView} view @param {number} at
 */
function chunkedLength(view, at) {
  chunks.reset()
  const from = view.offset + at
  const reached = chunks.advance(view.data, from, view.offset + view.captured)
  return chunks.phase === ChunkPhase.Done ? reached - from : -1
}
const chunks = new ChunkedReader()

/**
 * 1 for a request line with one of METHODS (the methods tshark recognises a request by), 2 for
 * a status line, 0 otherwise; the line is judged by netkit's shared startLineKind.
 * @param {import('netkit').ByteView} view
 */
function startLine(view) {
  startLf = -1
  startMethod = ''
  if (view.captured < 8) return 0
  // Neither "HTTP/1." nor a method of METHODS and a space first: no start line, whatever follows
  // (the test below needs one of them), so the bytes of a body segment are not scanned for a line end.
  const d = view.data, o = view.offset
  const method = methodAt(view, view.indexOf(0x20, 0, 8))
  if (method === '' && !(d[o] === 0x48 && d[o + 1] === 0x54 && d[o + 2] === 0x54 && d[o + 3] === 0x50 && d[o + 4] === 0x2f &&
        d[o + 5] === 0x31 && d[o + 6] === 0x2e)) return 0
  const eol = startLf = view.indexOf(0x0a, 0)
  // A status line may be cut by the capture; a request line must end in HTTP/1.x, so must be whole.
  const end = eol < 0 ? view.captured : lineEnd(view.data, view.offset, view.offset + eol) - view.offset
  const kind = startLineKind(view.data, view.offset, view.offset + end)
  if (kind === StartLine.Status) return 2
  if (kind === StartLine.Request && eol >= 0 && method !== '') {
    startMethod = method
    return 1
  }
  return 0
}

/** Where the LF ending the line startLine() last judged is (-1: none captured). */
let startLf = -1
/** The method of the request line startLine() last found ('' when it found none). */
let startMethod = ''

/** METHODS as bytes, for methodAt. */
const METHOD_CODES = METHODS.map((m) => Uint8Array.from(m, (c) => c.charCodeAt(0)))

/**
 * The method of METHODS that is view bytes [0, sp) exactly, or ''.
 * @param {import('netkit').ByteView} view @param {number} sp
 */
function methodAt(view, sp) {
  const data = view.data
  const o = view.offset
  next: for (let m = 0; m < METHOD_CODES.length; m++) {
    const codes = METHOD_CODES[m]
    if (codes.length !== sp) continue
    for (let i = 0; i < sp; i++) if (data[o + i] !== codes[i]) continue next
    return METHODS[m]
  }
  return ''
}

/**
 * Named body layers for the media types tshark names (other types show as data).
 * @param {string} name @param {string} title @param {string[]} types
 */
function bodyLayer(name, title, types) {
  return defineDissector({ name, title, fields: {}, handsOn: [], register: types.map((key) => ({ table: 'media_type', key })), dissect() {} })
}

export default [
  http,
  bodyLayer('data-text-lines', 'Line-based text data', ['text/plain', 'text/html', 'text/css', 'text/javascript', 'text/csv']),
  bodyLayer('json', 'JavaScript Object Notation', ['application/json']),
  bodyLayer('urlencoded-form', 'HTML Form URL Encoded', ['application/x-www-form-urlencoded']),
]
