/**
 * The https flags of `netkit http` turned into transport options: trust (--insecure, --cacert),
 * SNI (--servername), and the secrets of the run, appended to --keylog FILE in the NSS key log
 * format and kept for the capture file (a pcapng Decryption Secrets Block) when --capture writes one.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs'
import { InvalidArgumentError, fileAccessError } from '../errors.js'
import type { TlsClientOptions } from './tls-dial.js'

/** The run's TLS secrets as key log lines, in the order the handshakes made them. */
export class TlsSecrets {
  private readonly lines: Buffer[] = []
  private bytes = 0

  add(line: Buffer): void {
    // Bounded: a run with millions of handshakes keeps the first 64 MiB of secrets for the file.
    if (this.bytes > 64 << 20) return
    this.lines.push(Buffer.from(line))
    this.bytes += line.length
  }

  /** Every line so far (each ends with a newline). */
  text(): Buffer {
    return Buffer.concat(this.lines, this.bytes)
  }

  get empty(): boolean {
    return this.bytes === 0
  }
}

interface Flags {
  insecure: boolean
  cacert?: string
  servername?: string
  keylog?: string
  /** --capture: the secrets go into the capture file. */
  capture?: string
}

/** Transport TLS options for the flags; refuses https flags on an http URL. */
export async function tlsOptions(flags: Flags, https: boolean): Promise<{ options: TlsClientOptions | undefined; secrets: TlsSecrets | undefined; close: () => void }> {
  const given = flags.insecure || flags.cacert !== undefined || flags.servername !== undefined || flags.keylog !== undefined
  if (!https) {
    if (given) throw new InvalidArgumentError('--insecure, --cacert, --servername and --keylog are for https URLs')
    return { options: undefined, secrets: undefined, close: () => {} }
  }
  let ca: Buffer | undefined
  if (flags.cacert !== undefined) {
    try {
      ca = readFileSync(flags.cacert)
    } catch (err) {
      throw fileAccessError(flags.cacert, err, 'read the CA certificates')
    }
  }
  let fd = -1
  if (flags.keylog !== undefined) {
    try {
      fd = openSync(flags.keylog, 'a', 0o600)
    } catch (err) {
      throw fileAccessError(flags.keylog, err, 'open the key log')
    }
  }
  const options: TlsClientOptions = { insecure: flags.insecure, ca, servername: flags.servername }
  // Secrets are asked of node:tls (a callback per secret, five per TLS 1.3 handshake) only when
  // a key log or a capture file will hold them.
  if (fd < 0 && flags.capture === undefined) return { options, secrets: undefined, close: () => {} }
  const secrets = new TlsSecrets()
  options.onKeylog = (line: Buffer) => {
    secrets.add(line)
    if (fd >= 0) writeSync(fd, line)
  }
  return { options, secrets, close: () => { if (fd >= 0) closeSync(fd) } }
}
