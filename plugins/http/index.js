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
    if (kind === 0) return ctx.malformed('not an HTTP request or status line')
    let eol = view.indexOf(0x0a, 0)
    if (eol < 0) eol = view.captured
    const line = view.text(0, eol > 0 && view.u8(eol - 1) === 0x0d ? eol - 1 : eol)
    const parts = line.split(' ')
    if (kind === 1) {
      ctx.set(f.request, 1)
      ctx.setText(f.method, parts[0])
      ctx.setText(f.uri, parts.slice(1, -1).join(' '))
      ctx.setText(f.requestVersion, parts[parts.length - 1])
    } else {
      ctx.set(f.response, 1)
      ctx.setText(f.responseVersion, parts[0])
      ctx.set(f.code, Number(parts[1]))
      ctx.setText(f.phrase, parts.slice(2).join(' '))
    }
    if (ctx.wantsInfo) ctx.info(`: HTTP: ${line}`, true)
    // Header lines up to the blank line (or the end of what was captured).
    let mediaType = ''
    for (let p = eol + 1; p < view.captured;) {
      let e = view.indexOf(0x0a, p)
      if (e < 0) e = view.captured
      const end = e > p && view.u8(e - 1) === 0x0d ? e - 1 : e
      if (end === p) {
        // Blank line: the body follows; hand it to the media_type table (tshark's layer names).
        if (e + 1 < view.captured && mediaType) ctx.next('media_type', mediaType, e + 1)
        break
      }
      const colon = view.indexOf(0x3a, p, end)
      if (colon > p) {
        const name = view.text(p, colon - p).toLowerCase()
        const key = HEADER_FIELDS[/** @type {keyof HEADER_FIELDS} */ (name)]
        if (name === 'content-type') mediaType = view.text(colon + 1, end - colon - 1).split(';')[0].trim().toLowerCase()
        if (key !== undefined) {
          const id = f[/** @type {keyof typeof f} */ (key)]
          if (ctx.wants(id) || key === 'contentLengthHeader') {
            const value = view.text(colon + 1, end - colon - 1).trim()
            ctx.setText(id, value)
            if (key === 'contentLengthHeader' && /^\d+$/.test(value)) ctx.set(f.contentLength, Number(value))
          }
        }
      }
      p = e + 1
    }
  },
})

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

/** Line-based text bodies, as tshark names them ("Line-based text data"). */
const textLines = defineDissector({
  name: 'data-text-lines',
  title: 'Line-based text data',
  fields: {},
  register: ['text/plain', 'text/html', 'text/css', 'text/javascript', 'text/csv', 'application/x-www-form-urlencoded'].map((key) => ({ table: 'media_type', key })),
  dissect() {},
})

/** Any other body ("Media Type"). */
const media = defineDissector({
  name: 'media',
  title: 'Media Type',
  fields: {},
  heuristic: ['media_type'],
  recognize: () => true,
  dissect() {},
})

export default [http, textLines, media]
