/**
 * TLS for the transport: the options a connection dials with (SNI, ALPN http/1.1, trust,
 * session resumption), the handshake figures the report shows, and the error kinds of failed
 * handshakes. node:tls does the protocol; connections, pooling and keep-alive stay netkit's own,
 * the same for https as for http (Go's Transport wraps its persistConn the same way).
 */
import { createSecureContext, type ConnectionOptions, type SecureContext, type TLSSocket } from 'node:tls'
import type { OnReadOpts } from 'node:net'
import type { HttpErrorKind } from '../errors.js'

/** TLS settings of a Transport. */
export interface TlsClientOptions {
  /** SNI and the name the certificate must carry (default: the URL's host; none for an IP). */
  servername?: string
  /** Accept any certificate (curl -k). */
  insecure?: boolean
  /** Trusted CA certificates (PEM) instead of Node's bundled roots. */
  ca?: string | Buffer
  /** Offer the last session of the host on a new connection (default true). */
  resume?: boolean
  /** Receives each NSS key log line (SSLKEYLOGFILE's format) as the handshakes make them. */
  onKeylog?: (line: Buffer) => void
}

/** Handshake figures of one Transport. */
export class TlsStats {
  handshakes = 0
  /** Handshakes that resumed an earlier session (abbreviated handshake or PSK). */
  resumed = 0
  readonly versions: Record<string, number> = {}
  readonly ciphers: Record<string, number> = {}
  /** Handshake times in ms (TCP connected to TLS finished), for the report's percentiles. */
  readonly times: number[] = []

  /** Counts a finished handshake. */
  record(socket: TLSSocket, ms: number): void {
    this.handshakes++
    if (socket.isSessionReused()) this.resumed++
    const version = socket.getProtocol() ?? 'unknown'
    this.versions[version] = (this.versions[version] ?? 0) + 1
    const c = socket.getCipher()
    const cipher = c?.standardName ?? c?.name ?? 'unknown'
    this.ciphers[cipher] = (this.ciphers[cipher] ?? 0) + 1
    // Bounded: the percentiles of the first 100 000 handshakes stand for the run.
    if (this.times.length < 100_000) this.times.push(ms)
  }

  toJSON(): Record<string, unknown> {
    const sorted = [...this.times].sort((a, b) => a - b)
    const pct = (p: number): number => sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
    return {
      handshakes: this.handshakes,
      resumed: this.resumed,
      versions: this.versions,
      ciphers: this.ciphers,
      handshakeMs: { p50: pct(0.5), p99: pct(0.99) },
    }
  }
}

/**
 * One SecureContext (OpenSSL's SSL_CTX: trust store, protocol settings) per TLS option set, made
 * on the first dial and shared by every later one. Without it node:tls builds a new context for
 * each connection, which costs more than the rest of a client handshake's JavaScript
 * (docs/performance.md, "HTTPS: handshakes and reads"). Per-connection settings (SNI, ALPN,
 * session, rejectUnauthorized) stay in the connect options.
 */
const contexts = new WeakMap<TlsClientOptions, SecureContext>()

function secureContextOf(o: TlsClientOptions): SecureContext {
  let context = contexts.get(o)
  if (context === undefined) {
    context = createSecureContext(o.ca === undefined ? {} : { ca: o.ca })
    contexts.set(o, context)
  }
  return context
}

/** ALPN's protocol list in its wire form (RFC 7301 section 3.1), made once instead of per dial. */
const ALPN_HTTP11 = Buffer.from('\x08http/1.1', 'latin1')

/**
 * The node:tls options for a dial to host:port. `onread` (tls.connect's, as net.connect's; not in
 * @types/node) has decrypted bytes copied into the caller's buffer instead of 'data' chunks.
 */
export function tlsConnectOptions(o: TlsClientOptions, host: string, port: number, session: Buffer | undefined, onread?: OnReadOpts): ConnectionOptions {
  // RFC 6066 section 3: SNI carries host names only, never literal addresses.
  const isIp = /^[\d.]+$/.test(host) || host.includes(':')
  const servername = o.servername ?? (isIp ? undefined : host)
  const options: ConnectionOptions & { onread?: OnReadOpts } = {
    host,
    port,
    servername,
    ALPNProtocols: ALPN_HTTP11,
    rejectUnauthorized: o.insecure !== true,
    secureContext: secureContextOf(o),
    session: o.resume === false ? undefined : session,
    // node:tls checks the certificate against `servername`, or `host` when there is none.
    onread,
  }
  return options
}

/** The error kind of a failed TLS handshake, by OpenSSL's and Node's codes. */
export function kindOfTlsError(err: NodeJS.ErrnoException): HttpErrorKind | undefined {
  const code = err.code ?? ''
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'tls-hostname'
  if (/CERT|UNABLE_TO_(GET|VERIFY)|SELF_SIGNED|CERTIFICATE/.test(code)) return 'tls-certificate'
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO' || /alert|handshake|wrong version/i.test(err.message)) return 'tls-handshake'
  return undefined
}
