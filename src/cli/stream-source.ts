/**
 * Where `netkit streams` and `netkit http-log` read packets from: a file (-r) or a live
 * interface (-i, with an optional kernel filter, -c and --duration), and the run that feeds a
 * TcpTracker from it.
 */
import { Args, Flags } from '@oclif/core'
import { ExitStatus, InvalidArgumentError } from '../errors.js'
import { loadConfig } from '../config.js'
import { PacketSelector } from '../dissect/packet-selector.js'
import { configFlag } from './common-flags.js'
import { displayFilterFlag, loadDissection } from './display-filter.js'
import { dissectionFlags, withDissectionFlags } from './dissection-flags.js'
import { filterExpression } from './filter-expression.js'
import type { TcpTracker } from '../stream/tcp-tracker.js'
import { trackFile } from '../stream/track-file.js'
import { trackLive } from '../stream/track-live.js'

/** The source flags (shared by the commands that track TCP streams). */
export const streamSourceFlags = {
  read: Flags.string({ char: 'r', description: 'file to read (- for standard input)', helpValue: 'FILE', exclusive: ['interface'] }),
  interface: Flags.string({ char: 'i', description: 'capture live on this interface instead (needs CAP_NET_RAW); stop with Ctrl-C, -c or --duration', helpValue: 'IFACE' }),
  count: Flags.integer({ char: 'c', description: 'with -i: stop after N packets', min: 1, helpValue: 'N' }),
  duration: Flags.string({ description: 'with -i: stop after SECS seconds', helpValue: 'SECS' }),
  'display-filter': displayFilterFlag,
  ...dissectionFlags,
  config: configFlag,
}

/** The trailing filter words (with -i). */
export const streamSourceArgs = {
  filter: Args.string({ description: 'with -i: pcap-filter(7) expression for the kernel (the trailing words, as in tcpdump)', required: false, ignoreStdin: true }),
}

/** Parsed source flags. */
export interface StreamSource { read?: string; interface?: string; count?: number; duration?: string; 'display-filter'?: string; config?: string; 'decode-as'?: string[]; preference?: string[] }

/** Feeds the file or the live interface to `tracker`; `command` names the command in messages. */
export async function trackSource(command: string, flags: StreamSource, raw: Parameters<typeof filterExpression>[0], tracker: TcpTracker, afterBatch?: () => void): Promise<void> {
  const expr = filterExpression(raw)
  const warn = (w: string) => process.stderr.write(`netkit ${command}: warning: ${w}\n`)
  const selector = await displayFilterSelector(command, flags)
  if (flags.read !== undefined) {
    if (expr !== '' || flags.count !== undefined || flags.duration !== undefined) {
      throw new InvalidArgumentError('a filter expression, -c and --duration go with -i (for a file, filter it first: netkit read -r FILE EXPR -w -)')
    }
    await trackFile(flags.read, tracker, warn, selector)
    return
  }
  if (flags.interface === undefined) throw new InvalidArgumentError('give a capture file with -r FILE, or an interface to capture on with -i IFACE')
  const duration = flags.duration === undefined ? undefined : Number(flags.duration)
  if (duration !== undefined && !(duration > 0)) throw new InvalidArgumentError(`--duration needs a positive number of seconds (got '${flags.duration}')`)
  const status = (line: string) => process.stderr.write(`${line}\n`)
  const s = await trackLive({ interface: flags.interface, filter: expr, count: flags.count, durationSeconds: duration, status, afterBatch, selector }, tracker)
  status(`${s.captured} packets captured\n${s.received} packets received by filter\n${s.dropped} packets dropped by kernel`)
  if (s.endReason) {
    process.stderr.write(`netkit ${command}: ${s.endReason}\n`)
    process.exitCode = ExitStatus.runtime
  }
}

/** The selector for `-Y EXPR` (compiled before any packet is read), or undefined without -Y. */
export async function displayFilterSelector(command: string, flags: { 'display-filter'?: string; config?: string; 'decode-as'?: string[]; preference?: string[] }): Promise<PacketSelector | undefined> {
  const expr = flags['display-filter']
  if (expr === undefined) return undefined
  const { registry, filter } = await loadDissection(command, withDissectionFlags(await loadConfig(flags.config), flags), expr)
  return new PacketSelector(registry, filter!)
}
