/**
 * RequestSpec: one HTTP/1.1 request serialized once into the exact bytes put on the wire, so a
 * load generator sends the same Buffer again and again with no per-request formatting. Also
 * parses and checks the target URL (the pool key is scheme + host + port, as Go's connectMethod).
 * See: RFC 9112 section 3 (request line), RFC 9110 section 7.2 (Host), section 9.2.2 (idempotent).
 */
import { InvalidArgumentError } from '../errors.js'

/** Where requests go: the parts of a URL the transport needs. */
export interface Target {
  scheme: 'http' | 'https'
  /** Host name or address as dialled (IPv6 without brackets). */
  host: string
  port: number
  /** Pool key: `scheme://host:port`. */
  key: string
  /** Value of the Host header (port omitted when it is the scheme's default). */
  hostHeader: string
}

/** What a request is made of before serialization. */
export interface RequestOptions {
  url: string | URL
  /** Default GET. */
  method?: string
  /** Extra header fields, as [name, value] pairs or an object. */
  headers?: Array<[string, string]> | Record<string, string>
  body?: Buffer | string | null
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// Go's isReplayable retries only these methods (PUT and DELETE are idempotent by RFC 9110 but Go
// does not replay them, and neither do we).
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/** Parses and checks a target URL; throws InvalidArgumentError naming what is wrong. */
export function parseTarget(url: string | URL): { target: Target; path: string } {
  let u: URL
  try {
    u = typeof url === 'string' ? new URL(url) : url
  } catch {
    throw new InvalidArgumentError(`invalid URL '${String(url)}' (expected http[s]://host[:port]/path)`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new InvalidArgumentError(`unsupported URL scheme '${u.protocol.replace(/:$/, '')}' in '${u.href}' (http and https are supported)`)
  }
  const scheme = u.protocol === 'https:' ? 'https' : 'http'
  if (u.hostname === '') throw new InvalidArgumentError(`URL '${u.href}' has no host`)
  if (u.username !== '' || u.password !== '') throw new InvalidArgumentError(`URL '${u.href}': credentials in URLs are not supported (use -H 'Authorization: ...')`)
  const port = u.port === '' ? (scheme === 'https' ? 443 : 80) : Number(u.port)
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
  const target: Target = {
    scheme,
    host,
    port,
    key: `${scheme}://${u.hostname}:${port}`,
    hostHeader: u.host,
  }
  return { target, path: `${u.pathname || '/'}${u.search}` }
}

/** A request serialized once, sent many times. */
export class RequestSpec {
  readonly target: Target
  readonly method: string
  /** The request line and header block, ending with the empty line. */
  readonly head: Buffer
  /** The body, or null. */
  readonly body: Buffer | null
  /** head + body in one Buffer (what is written when no 100-continue wait is needed). */
  readonly bytes: Buffer
  /** HEAD: the response has no body whatever its headers say (RFC 9110 section 9.3.2). */
  readonly isHead: boolean
  /** Safe to send again after a failure (RFC 9110 section 9.2.2), as Go's isReplayable. */
  readonly idempotent: boolean
  /** The request carries `Expect: 100-continue` and a body: send the body after 100. */
  readonly expectContinue: boolean
  /** The request asks the server to close after answering. */
  readonly connectionClose: boolean

  constructor(options: RequestOptions, extra: { connectionClose?: boolean } = {}) {
    const { target, path } = parseTarget(options.url)
    const method = options.method ?? 'GET'
    if (!TOKEN.test(method)) throw new InvalidArgumentError(`invalid HTTP method '${method}'`)
    const pairs = headerPairs(options.headers)
    let body: Buffer | null = null
    if (options.body !== undefined && options.body !== null) body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body
    const has = (name: string) => pairs.some(([k]) => k.toLowerCase() === name)
    let head = `${method} ${path} HTTP/1.1\r\n`
    if (!has('host')) head += `Host: ${target.hostHeader}\r\n`
    if (!has('user-agent')) head += 'User-Agent: netkit\r\n'
    let connectionClose = extra.connectionClose === true
    let expectContinue = false
    for (const [name, value] of pairs) {
      const lower = name.toLowerCase()
      if (lower === 'content-length' || lower === 'transfer-encoding') {
        throw new InvalidArgumentError(`header '${name}' is set by netkit from the body; remove it`)
      }
      if (lower === 'connection' && /(^|,)\s*close\s*(,|$)/i.test(value)) connectionClose = true
      if (lower === 'connection' && extra.connectionClose) continue
      if (lower === 'expect' && /^\s*100-continue\s*$/i.test(value)) expectContinue = true
      head += `${name}: ${value}\r\n`
    }
    if (body !== null || method === 'POST' || method === 'PUT' || method === 'PATCH') head += `Content-Length: ${body?.length ?? 0}\r\n`
    if (extra.connectionClose) head += 'Connection: close\r\n'
    head += '\r\n'
    this.target = target
    this.method = method
    this.head = Buffer.from(head, 'latin1')
    this.body = body !== null && body.length > 0 ? body : null
    this.bytes = this.body ? Buffer.concat([this.head, this.body]) : this.head
    this.isHead = method === 'HEAD'
    // Go's isReplayable: idempotent method and no body it could not send again; our bodies are
    // Buffers, so they can always be resent. An Idempotency-Key header also makes it replayable.
    this.idempotent = IDEMPOTENT.has(method) || has('idempotency-key') || has('x-idempotency-key')
    this.expectContinue = expectContinue && this.body !== null
    this.connectionClose = connectionClose
  }
}

/** Checks and normalizes header input into [name, value] pairs. */
function headerPairs(headers: RequestOptions['headers']): Array<[string, string]> {
  const pairs: Array<[string, string]> = Array.isArray(headers) ? headers : Object.entries(headers ?? {})
  for (const [name, value] of pairs) {
    if (!TOKEN.test(name)) throw new InvalidArgumentError(`invalid header name '${name}'`)
    if (/[\r\n\0]/.test(value)) throw new InvalidArgumentError(`invalid value for header '${name}' (control characters)`)
  }
  return pairs
}

/** Parses a `-H 'Name: value'` argument into a pair. */
export function parseHeaderArg(arg: string): [string, string] {
  const colon = arg.indexOf(':')
  if (colon <= 0) throw new InvalidArgumentError(`invalid header '${arg}' (expected 'Name: value')`)
  const name = arg.slice(0, colon).trim()
  if (!TOKEN.test(name)) throw new InvalidArgumentError(`invalid header name '${name}'`)
  return [name, arg.slice(colon + 1).trim()]
}
