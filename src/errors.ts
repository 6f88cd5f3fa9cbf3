/**
 * The NetkitError hierarchy: every error library code throws on purpose. Each has a stable string
 * `code` (`NETKIT_ERR_*`), a one-line message that says what went wrong and what to do, the exit
 * status the CLI uses for it, and the underlying `cause` when there is one.
 */
import { constants as osConstants } from 'node:os'

/** The exit statuses of every netkit command (the README's list): 0 ok, 1 runtime failure, 2 usage error, 3 no live capture here. */
export const ExitStatus = {
  ok: 0,
  runtime: 1,
  usage: 2,
  captureUnavailable: 3,
} as const

/** Options every NetkitError accepts. */
export interface NetkitErrorOptions {
  cause?: unknown
  /** One short sentence on what to do about it; printed after the message. */
  hint?: string
}

/** The base of all netkit errors. */
export class NetkitError extends Error {
  /** Stable machine-readable code. */
  readonly code: string = 'NETKIT_ERR'
  /** Exit status the CLI ends with. */
  readonly exitStatus: number = ExitStatus.runtime
  /** What to do about it, if the message does not already say. */
  readonly hint?: string

  constructor(message: string, options: NetkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.hint = options.hint
  }
}

/** A bad flag, argument or option value: the user asked for something that cannot be done. */
export class InvalidArgumentError extends NetkitError {
  override readonly code = 'NETKIT_ERR_INVALID_ARG'
  override readonly exitStatus = ExitStatus.usage
}

/** A capture file that is not pcap/pcapng, or is damaged. Names the file and the byte offset. */
export class FileFormatError extends NetkitError {
  override readonly code = 'NETKIT_ERR_FILE_FORMAT'
  /** The file (or `-` for standard input). */
  readonly file: string
  /** Byte offset in the file where the damage starts. */
  readonly offset: number

  constructor(file: string, offset: number, what: string, options: NetkitErrorOptions = {}) {
    super(`${file}: ${what} (at byte offset ${offset})`, options)
    this.file = file
    this.offset = offset
  }
}

/** A file that cannot be opened, read or written (missing, permission, disk full). */
export class FileAccessError extends NetkitError {
  override readonly code = 'NETKIT_ERR_FILE_ACCESS'
  readonly file: string

  constructor(file: string, what: string, options: NetkitErrorOptions = {}) {
    super(`${file}: ${what}`, options)
    this.file = file
  }
}

/**
 * The reader of a pipe we write to went away (EPIPE: `netkit capture -w - | tshark -i -` and
 * tshark quit). Not a failure of the run: the writer stops, reports its counts and exits 0.
 */
export class PipeClosedError extends NetkitError {
  override readonly code = 'NETKIT_ERR_PIPE_CLOSED'
  override readonly exitStatus = ExitStatus.ok
  readonly file: string

  constructor(file: string, what: string, options: NetkitErrorOptions = {}) {
    super(`${file}: ${what}`, options)
    this.file = file
  }
}

/** Whether `err` (or what it wraps) says that the pipe's reader closed it. */
export function isPipeClosed(err: unknown): boolean {
  return err instanceof PipeClosedError || (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE'
}

/** A configuration file that cannot be loaded or does not validate. Names the file. */
export class ConfigError extends NetkitError {
  override readonly code = 'NETKIT_ERR_CONFIG'
  override readonly exitStatus = ExitStatus.usage
}

/** A dissector plugin that cannot be loaded or registered. */
export class PluginError extends NetkitError {
  override readonly code = 'NETKIT_ERR_PLUGIN'
}

/** A pcap-filter expression that does not compile. */
export class FilterSyntaxError extends NetkitError {
  override readonly code = 'NETKIT_ERR_FILTER'
  override readonly exitStatus = ExitStatus.usage
}

/**
 * A display filter (wireshark-filter(4)) that does not compile: a syntax error, an unknown field,
 * or a comparison its types do not allow. The message names the offset in the expression.
 */
export class DisplayFilterError extends NetkitError {
  override readonly code = 'NETKIT_ERR_DISPLAY_FILTER'
  override readonly exitStatus = ExitStatus.usage
  /** Character offset in the expression where the problem is. */
  readonly offset: number

  constructor(what: string, offset: number, options: NetkitErrorOptions = {}) {
    super(`display filter: ${what} at offset ${offset}`, options)
    this.offset = offset
  }
}

/** Live capture is not possible here: not Linux, no addon, or no CAP_NET_RAW. */
export class CaptureUnavailableError extends NetkitError {
  override readonly code = 'NETKIT_ERR_CAPTURE_UNAVAILABLE'
  override readonly exitStatus = ExitStatus.captureUnavailable
}

/** Live capture failed at run time (interface gone, socket error). */
export class CaptureError extends NetkitError {
  override readonly code = 'NETKIT_ERR_CAPTURE'
}

/**
 * How an HTTP request failed, each with a stable code (`NETKIT_ERR_HTTP_` and the kind in
 * capitals, as undici's `UND_ERR_*`). The load report counts failures by kind.
 */
export const HttpErrorCodes = {
  /** The server refused the connection (ECONNREFUSED). */
  'connect-refused': 'NETKIT_ERR_HTTP_CONNECT_REFUSED',
  /** The host name did not resolve. */
  dns: 'NETKIT_ERR_HTTP_DNS',
  /** The connection was not established within the connect timeout. */
  'connect-timeout': 'NETKIT_ERR_HTTP_CONNECT_TIMEOUT',
  /** Another error while connecting. */
  connect: 'NETKIT_ERR_HTTP_CONNECT',
  /** The server's certificate is not trusted (self-signed, unknown CA, expired). */
  'tls-certificate': 'NETKIT_ERR_HTTP_TLS_CERTIFICATE',
  /** The certificate does not name the host asked for (SNI / --servername). */
  'tls-hostname': 'NETKIT_ERR_HTTP_TLS_HOSTNAME',
  /** The TLS handshake failed (not a TLS server, no common version or cipher, an alert). */
  'tls-handshake': 'NETKIT_ERR_HTTP_TLS_HANDSHAKE',
  /** The connection was reset (ECONNRESET, EPIPE). */
  reset: 'NETKIT_ERR_HTTP_RESET',
  /** Another socket error on an established connection. */
  io: 'NETKIT_ERR_HTTP_IO',
  /** The whole-request timeout passed. */
  timeout: 'NETKIT_ERR_HTTP_TIMEOUT',
  /** No response head within responseHeaderTimeout. */
  'header-timeout': 'NETKIT_ERR_HTTP_HEADER_TIMEOUT',
  /** The connection closed before a response began. */
  closed: 'NETKIT_ERR_HTTP_CLOSED',
  /** The connection closed in the middle of a response. */
  truncated: 'NETKIT_ERR_HTTP_TRUNCATED',
  /** The bytes are not a valid HTTP/1 response. */
  parse: 'NETKIT_ERR_HTTP_PARSE',
  /** The response head (or a trailer section) passed the size limit. */
  'head-too-large': 'NETKIT_ERR_HTTP_HEAD_TOO_LARGE',
  /** The transport was closed, or the request cancelled. */
  aborted: 'NETKIT_ERR_HTTP_ABORTED',
  /** The --capture beside the load failed. */
  capture: 'NETKIT_ERR_HTTP_CAPTURE',
} as const

/** The kinds of HttpError. */
export type HttpErrorKind = keyof typeof HttpErrorCodes

/** An HTTP request failed; `kind` says how and `code` is its stable code. */
export class HttpError extends NetkitError {
  override readonly code: (typeof HttpErrorCodes)[HttpErrorKind]
  readonly kind: HttpErrorKind

  constructor(kind: HttpErrorKind, message: string, options: NetkitErrorOptions = {}) {
    super(message, options)
    this.kind = kind
    this.code = HttpErrorCodes[kind]
  }
}

/** Converts a Node system error on a file into a FileAccessError with a readable reason. */
export function fileAccessError(file: string, err: unknown, doing: string): FileAccessError {
  const e = err as NodeJS.ErrnoException
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
    ENOSPC: 'no space left on device',
    EROFS: 'read-only file system',
    EDQUOT: 'disk quota exceeded',
    EMFILE: 'too many open files',
  }
  const reason = (e && e.code && reasons[e.code]) ?? (e instanceof Error ? e.message : String(err))
  return new FileAccessError(file, `cannot ${doing}: ${reason}`, { cause: err })
}

/** The name of an errno number (ENOSPC, ...), or `errno N` for one node does not know. */
export function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(osConstants.errno)) if (value === errno) return name
  return `errno ${errno}`
}

/** An Error for an errno number, with its name as `code`, as node:fs would give. */
export function errnoError(errno: number): NodeJS.ErrnoException {
  const code = errnoName(errno)
  return Object.assign(new Error(code), { code, errno })
}
