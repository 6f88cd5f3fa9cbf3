import { Args, Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { outputFlags } from '../cli/common-flags.js'
import { PacketOutput } from '../cli/packet-output.js'
import { captureFilter } from '../capture/filter-program.js'
import { filterExpression } from '../cli/filter-expression.js'
import { openLive, DEFAULT_BUFFER_BYTES, MAX_SNAPLEN, type LiveCapture } from '../capture/live-capture.js'
import { RotatingWriter } from '../capture/rotating-writer.js'
import { parseFanout } from '../capture/fanout.js'
import { runWorkers } from '../capture/workers.js'
import { loadConfig } from '../config.js'
import { dropPrivileges, dropTarget, folderOf } from '../privilege/drop.js'
import { loadDissection } from '../cli/display-filter.js'
import { withDissectionFlags } from '../cli/dissection-flags.js'
import { PacketSelector } from '../dissect/packet-selector.js'
import { ExitStatus, InvalidArgumentError, PipeClosedError, errnoError, fileAccessError } from '../errors.js'
import { needsDissection, type OutputFormat } from '../format/packet-printer.js'
import { linkTypeDescription, linkTypeName } from '../pcap/link-types.js'

/** `netkit capture`: capture live packets (tcpdump's flags), print them or write pcap/pcapng files. */
export default class Capture extends NetkitCommand {
  static override summary = 'Capture packets from a network interface (like tcpdump -i)'
  static override strict = false
  static override examples = [
    '<%= config.bin %> capture -i eth0 -c 5 tcp port 443',
    "<%= config.bin %> capture -i lo -w lo.pcap 'tcp port 33777'",
    '<%= config.bin %> capture -i eth0 -w web.pcap --nano --duration 60 port 80',
    '<%= config.bin %> capture -i any -w out.pcapng -F pcapng --nano --duration 30',
    '<%= config.bin %> capture -i any -w ring.pcap -C 100 -W 5',
    '<%= config.bin %> capture -i eth0 -w - -U | wireshark -k -i -',
    '<%= config.bin %> capture -i eth0 -w part.pcap --workers 4',
    '<%= config.bin %> capture -i eth0 -w a.pcap --fanout 7:hash,defrag',
    '<%= config.bin %> capture -i eth0 -T ek | curl -s -H content-type:application/x-ndjson --data-binary @- localhost:9200/_bulk',
  ]
  static override args = {
    filter: Args.string({ description: 'pcap-filter(7) expression (the trailing words, as in tcpdump)', required: false, ignoreStdin: true }),
  }
  static override flags = {
    interface: Flags.string({ char: 'i', description: 'interface to capture on (`any` for all; see netkit interfaces)', required: true, helpValue: 'IFACE' }),
    ...outputFlags,
    snaplen: Flags.integer({ char: 's', description: `bytes to keep of each packet (0 = ${MAX_SNAPLEN})`, min: 0, max: MAX_SNAPLEN, default: MAX_SNAPLEN, helpValue: 'SNAPLEN' }),
    buffer: Flags.integer({ char: 'B', description: `kernel ring size in KiB (default ${DEFAULT_BUFFER_BYTES / 1024})`, min: 64, helpValue: 'KIB' }),
    'no-promiscuous-mode': Flags.boolean({ char: 'p', description: 'do not put the interface into promiscuous mode' }),
    direction: Flags.string({ char: 'Q', description: 'direction of the packets to capture', options: ['in', 'out', 'inout'], default: 'inout' }),
    'rotate-seconds': Flags.integer({ char: 'G', description: 'start a new -w file every SECS seconds (FILE may hold strftime %-conversions)', min: 1, helpValue: 'SECS' }),
    'file-size': Flags.integer({ char: 'C', description: 'start a new -w file when the current one is larger than MB million bytes', min: 1, helpValue: 'MB' }),
    'file-count': Flags.integer({ char: 'W', description: 'with -C: cycle through N files; with -G: stop after N files', min: 1, helpValue: 'N' }),
    duration: Flags.string({ description: 'stop after SECS seconds', helpValue: 'SECS' }),
    'bpf-file': Flags.string({ description: 'kernel filter program as `tcpdump -dd` prints it', helpValue: 'FILE' }),
    'relinquish-privileges': Flags.string({ char: 'Z', description: 'after opening the capture and the -w file, run as USER (its groups; no capabilities); under sudo the default is the invoking user', helpValue: 'USER' }),
    fanout: Flags.string({ description: 'join PACKET_FANOUT group ID: processes in one group split the interface\'s packets (hash keeps each flow in one)', helpValue: 'ID[:hash|lb|cpu|rollover|qm][,defrag][,rollover]' }),
    workers: Flags.integer({ description: 'start N capture processes in one fan-out group, each writing FILE with its index (out-0.pcap ...)', min: 1, max: 64, helpValue: 'N' }),
  }

  async run(): Promise<void> {
    const { flags, raw } = await this.parse(Capture)
    const expr = filterExpression(raw)
    const duration = flags.duration === undefined ? undefined : Number(flags.duration)
    if (duration !== undefined && !(duration > 0)) throw new InvalidArgumentError(`--duration needs a positive number of seconds (got '${flags.duration}')`)
    const rotating = flags['rotate-seconds'] !== undefined || flags['file-size'] !== undefined || flags['file-count'] !== undefined
    if (rotating && !flags.write) throw new InvalidArgumentError('-C, -G and -W need -w FILE')
    const fanout = flags.fanout === undefined ? undefined : parseFanout(flags.fanout)
    if (flags.workers !== undefined) {
      const spec = fanout ?? parseFanout(String(process.pid & 0xffff))
      process.exitCode = await runWorkers({ count: flags.workers, iface: flags.interface, spec, argv: this.argv, script: process.argv[1], write: flags.write })
      return
    }
    const config = withDissectionFlags(await loadConfig(flags.config), flags)
    const print = { format: flags.format as OutputFormat, fields: flags.field, hex: flags.hex, nano: flags.nano }
    const displayFilter = flags['display-filter']
    const { registry, filter: dfilter } = (!flags.write && needsDissection(print)) || displayFilter !== undefined
      ? await loadDissection('capture', config, displayFilter)
      : { registry: undefined, filter: undefined }
    const filter = captureFilter(expr, flags['bpf-file'])
    const account = dropTarget(flags['relinquish-privileges'])

    const capture = openLive({
      interface: flags.interface,
      snaplen: flags.snaplen,
      promisc: !flags['no-promiscuous-mode'],
      bufferBytes: flags.buffer === undefined ? undefined : flags.buffer * 1024,
      direction: flags.direction as 'in' | 'out' | 'inout',
      filter,
      // The file takes the ring's records as they come: the ring lays them out in its format.
      // (With a display filter the kept records are picked out of the batch: plain records.)
      recordLayout: flags.write && !dfilter ? `${flags['file-format'] as 'pcap' | 'pcapng'}-${flags.nano ? 'ns' : 'us'}` : 'plain',
      fanout,
    })
    let file: RotatingWriter | undefined
    let output: PacketOutput | undefined
    try {
      if (flags.write) {
        file = new RotatingWriter({
          path: flags.write,
          format: flags['file-format'] as 'pcap' | 'pcapng',
          nanosecond: flags.nano,
          interfaces: capture.interfaces,
          rotateSeconds: flags['rotate-seconds'],
          fileSizeBytes: flags['file-size'] === undefined ? undefined : flags['file-size'] * 1_000_000,
          fileCount: flags['file-count'],
          batchLayout: capture.recordLayout,
        })
      } else {
        output = new PacketOutput({ ...print, format: flags.format as OutputFormat }, () => capture.interfaces, registry, dfilter)
      }
      // Root is given up once the socket, the ring and the first file are open (tcpdump's -Z).
      if (account !== undefined) dropPrivileges(account, file && flags.write !== '-' ? [file.current] : [], rotating ? folderOf(flags.write!) : undefined)
    } catch (err) {
      capture.close()
      throw err
    }
    const info = capture.interfaces[0]
    process.stderr.write(`listening on ${flags.interface}, link-type ${linkTypeName(info.linkType)} (${linkTypeDescription(info.linkType)}), snapshot length ${info.snaplen} bytes\n`)
    // A plain -w file is written by the capture thread itself (no JS per block); rotation and
    // stdout go through the batch loop.
    const direct = file !== undefined && !rotating && flags.write !== '-' && !dfilter
    const selector = file && registry && dfilter ? new PacketSelector(registry, dfilter) : undefined
    const captured = direct
      ? await this.writeDirect(capture, file!, flags.count, duration)
      : await this.loop(capture, file, output, selector, flags.count ?? Infinity, duration, flags['packet-buffered'])
    const s = capture.stats()
    process.stderr.write(`${captured} packet${captured === 1 ? '' : 's'} captured\n${s.received} packet${s.received === 1 ? '' : 's'} received by filter\n${s.dropped} packet${s.dropped === 1 ? '' : 's'} dropped by kernel\n`)
    if (capture.endReason) {
      process.stderr.write(`netkit capture: ${capture.endReason}\n`)
      process.exitCode = ExitStatus.runtime
    }
  }

  /** Lets the capture thread write the file until a stop condition; returns packets written. */
  private async writeDirect(capture: LiveCapture, file: RotatingWriter, count: number | undefined, duration: number | undefined): Promise<number> {
    const undo = stopOnSignalsAndTime(capture, duration)
    let result
    try {
      result = await file.writeThrough((fd, fileBytes) => capture.writeTo(fd, { maxPackets: count, fileBytes }))
    } finally {
      undo()
      capture.close()
      file.close(capture.stats())
    }
    if (result.errno !== 0) throw fileAccessError(file.current, errnoError(result.errno), 'write it')
    return result.packets
  }

  /** Moves batches from the ring to the file or stdout until a stop condition; returns packets kept. */
  private async loop(capture: LiveCapture, file: RotatingWriter | undefined, output: PacketOutput | undefined, selector: PacketSelector | undefined, count: number, duration: number | undefined, packetBuffered: boolean): Promise<number> {
    const undo = stopOnSignalsAndTime(capture, duration)
    let left = count
    let kept = 0
    let readerGone = false
    // The file stays valid up to about a second ago even if the process is killed or traffic stops.
    let failure: unknown
    const flusher = file && setInterval(() => {
      try {
        file.flush()
      } catch (err) {
        if (!(err instanceof PipeClosedError)) failure = err
        capture.stop()
      }
    }, 1000)
    try {
      for await (const batch of capture) {
        let n: number
        if (file) {
          if (readerGone) continue // the ring drains after stop(); nothing more can be written
          if (selector) {
            const kept = selector.apply(batch, undefined, left)
            batch.compact(selector.select, kept)
          }
          else if (batch.count > left) batch.count = left
          try {
            n = file.writeBatch(batch)
            if (packetBuffered) file.flush()
          } catch (err) {
            // `-w - | tshark -i -` and tshark quit: the capture ends as if stopped, with its counts.
            if (!(err instanceof PipeClosedError)) throw err
            readerGone = true
            capture.stop()
            continue
          }
        } else {
          n = await output!.write(batch, undefined, left)
        }
        kept += n
        left -= n
        if (left <= 0 || file?.done || output?.closed) break
      }
      if (failure !== undefined) throw failure
    } finally {
      undo()
      if (flusher) clearInterval(flusher)
      capture.close()
      file?.close(capture.stats())
      await output?.close()
    }
    return kept
  }
}

/**
 * Stops the capture on SIGINT, SIGTERM or SIGHUP and after `duration` seconds: the first signal
 * stops cleanly (the ring drains), a second one does not wait for that. Returns the undo.
 */
function stopOnSignalsAndTime(capture: LiveCapture, duration: number | undefined): () => void {
  let signals = 0
  const stop = (): void => { if (signals++ === 0) capture.stop(); else capture.close() }
  const names = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
  for (const name of names) process.on(name, stop)
  const timer = duration === undefined ? undefined : setTimeout(() => capture.stop(), duration * 1000)
  return () => {
    if (timer) clearTimeout(timer)
    for (const name of names) process.off(name, stop)
  }
}
