// @ts-check
// HTTP/1.x (RFC 9112) messages that start in this segment: request line or status line, the
// headers tshark shows as fields, and the body's framing. Reached from the usual ports and, as
// tshark does, by recognising a request or status line on any TCP port.
import { defineDissector } from 'netkit'

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
    const headEnd = headerEnd(view)
    // Over a stream, a message whose headers are not all here waits for more segments
    // (its fields then land on the frame that completes it, as tshark shows them).
    if (headEnd < 0 && whole && ctx.flow >= 0) return ctx.needMore(1)
    let eol = view.indexOf(0x0a, 0)
    if (eol < 0) eol = view.captured
    const line = view.text(0, eol > 0 && view.u8(eol - 1) === 0x0d ? eol - 1 : eol)
    const parts = line.split(' ')
    const methods = ctx.flow >= 0 ? ctx.state('http.methods', newMethodTable) : undefined
    const connection = ctx.flow >> 1
    let method = ''
    let status = 0
    if (kind === 1) {
      method = parts[0]
      ctx.set(f.request, 1)
      ctx.setText(f.method, method)
      ctx.setText(f.uri, parts.slice(1, -1).join(' '))
      ctx.setText(f.requestVersion, parts[parts.length - 1])
    } else {
      status = Number(parts[1])
      ctx.set(f.response, 1)
      ctx.setText(f.responseVersion, parts[0])
      ctx.set(f.code, status)
      ctx.setText(f.phrase, parts.slice(2).join(' '))
    }
    if (ctx.wantsInfo) ctx.info(`: HTTP: ${line}`, true)
    // Header lines up to the blank line (or the end of what was captured).
    let mediaType = ''
    let contentLength = -1
    let chunked = false
    let bodyStart = -1
    for (let p = eol + 1; p < view.captured;) {
      let e = view.indexOf(0x0a, p)
      if (e < 0) e = view.captured
      const end = e > p && view.u8(e - 1) === 0x0d ? e - 1 : e
      if (end === p) { bodyStart = e + 1; break }
      const colon = view.indexOf(0x3a, p, end)
      if (colon > p) {
        const name = view.text(p, colon - p).toLowerCase()
        if (name === 'content-type') mediaType = view.text(colon + 1, end - colon - 1).split(';')[0].trim().toLowerCase()
        else if (name === 'transfer-encoding') chunked = /chunked\s*$/i.test(view.text(colon + 1, end - colon - 1))
        const key = HEADER_FIELDS[/** @type {keyof HEADER_FIELDS} */ (name)]
        if (key !== undefined) {
          const id = f[/** @type {keyof typeof f} */ (key)]
          if (ctx.wants(id) || key === 'contentLengthHeader') {
            const value = view.text(colon + 1, end - colon - 1).trim()
            ctx.setText(id, value)
            if (key === 'contentLengthHeader' && /^\d+$/.test(value)) {
              contentLength = Number(value)
              ctx.set(f.contentLength, contentLength)
            }
          }
        }
      }
      p = e + 1
    }
    if (ctx.flow < 0 || bodyStart < 0) return
    // The body's length (RFC 9112 section 6.3), to know where this message ends.
    const queue = methods?.get(connection)
    const request = kind === 2 ? queue?.[0] ?? '' : method
    let body = 0
    if (kind === 2 && (request === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304)) body = 0
    else if (chunked) {
      body = chunkedLength(view, bodyStart)
      if (body < 0) return whole ? ctx.needMore(1) : undefined
    } else if (contentLength >= 0) body = contentLength
    else if (kind === 2) {
      // Read until the server closes: complete at its FIN (the connection ends with it).
      ctx.needMore(-1)
      if (mediaType) ctx.next('media_type', mediaType, bodyStart)
      return
    }
    const total = bodyStart + body
    if (total > view.captured) return whole ? ctx.needMore(total - view.captured) : undefined
    ctx.pduLength(total)
    // The message is complete: keep the request methods in step with the responses.
    if (methods) {
      if (kind === 1) {
        if (queue) queue.push(method)
        else methods.set(connection, [method])
      } else if (queue && !(status >= 100 && status < 200)) queue.shift()
    }
    if (body > 0 && mediaType) ctx.next('media_type', mediaType, bodyStart)
  },
})

const newMethodTable = () => new Map()

/**
 * Offset just past the blank line that ends the header block, or -1 if it is not captured.
 * @param {import('netkit').ByteView} view
 */
function headerEnd(view) {
  for (let p = view.indexOf(0x0a, 0); p >= 0; p = view.indexOf(0x0a, p + 1)) {
    if (view.has(p + 1, 1) && view.u8(p + 1) === 0x0a) return p + 2
    if (view.has(p + 1, 2) && view.u8(p + 1) === 0x0d && view.u8(p + 2) === 0x0a) return p + 3
  }
  return -1
}

/**
 * Bytes of a chunked body starting at `at` (chunks, last chunk, trailers), or -1 when it is not
 * all captured yet. RFC 9112 section 7.1.
 * @param {import('netkit').ByteView} view @param {number} at
 */
function chunkedLength(view, at) {
  let p = at
  for (;;) {
    const eol = view.indexOf(0x0a, p)
    if (eol < 0) return -1
    const size = parseInt(view.text(p, eol - p).split(';')[0].trim(), 16)
    if (!Number.isFinite(size)) return -1
    p = eol + 1
    if (size === 0) break
    p += size
    if (!view.has(p, 1)) return -1
    const crlf = view.indexOf(0x0a, p)
    if (crlf < 0) return -1
    p = crlf + 1
  }
  // Trailer lines until the blank line.
  for (;;) {
    const eol = view.indexOf(0x0a, p)
    if (eol < 0) return -1
    const blank = eol === p || (eol === p + 1 && view.u8(p) === 0x0d)
    p = eol + 1
    if (blank) return p - at
  }
}

/**
 * 1 for a request line (METHOD SP ...), 2 for a status line (HTTP/1.x SP nnn), 0 otherwise.
 * @param {import('netkit').ByteView} view
 */
function startLine(view) {
  if (view.captured < 8) return 0
  if (view.u8(0) === 0x48 && view.u8(1) === 0x54 && view.u8(2) === 0x54 && view.u8(3) === 0x50 && view.u8(4) === 0x2f) {
    return view.has(9, 3) && view.u8(8) === 0x20 ? 2 : 0
  }
  const sp = view.indexOf(0x20, 0, 8)
  if (sp < 3 || !METHODS.includes(view.text(0, sp))) return 0
  // The request line must end in " HTTP/1.x".
  const eol = view.indexOf(0x0a, sp)
  if (eol < 0) return 0
  const end = view.u8(eol - 1) === 0x0d ? eol - 1 : eol
  if (end - sp < 10) return 0
  const version = view.text(end - 8, 8)
  return version === 'HTTP/1.1' || version === 'HTTP/1.0' ? 1 : 0
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
