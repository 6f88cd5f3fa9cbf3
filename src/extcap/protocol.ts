/**
 * Wireshark's extcap protocol (doc/extcap.adoc, extcap_example.py in Wireshark's sources): the
 * program is run with one of --extcap-interfaces, --extcap-dlts, --extcap-config or --capture,
 * and answers with `extcap`/`interface`/`dlt`/`arg` lines of `{key=value}` pairs, or writes a
 * pcap stream into --fifo until SIGTERM. Wireshark passes options of newer versions too
 * (--extcap-version=X, --debug, --extcap-control-in ...), so options this module does not know
 * are ignored, never fatal.
 */
import { DEFAULT_BUFFER_BYTES, MAX_SNAPLEN } from '../capture/live-capture.js'
import type { NetworkInterface } from '../capture/interfaces.js'
import { InvalidArgumentError } from '../errors.js'
import { LinkType, linkTypeDescription, linkTypeName } from '../pcap/link-types.js'

/** Prefix of netkit's extcap interface names (netkit-eth0, netkit-any, netkit-http). */
export const PREFIX = 'netkit-'
/** The interface that runs an HTTP load and streams its packets. */
export const HTTP_INTERFACE = `${PREFIX}http`

/** One `arg` of an interface's configuration dialog. */
export interface ExtcapArg {
  call: string
  display: string
  type: 'unsigned' | 'integer' | 'string' | 'boolflag' | 'selector'
  default?: string | number | boolean
  tooltip: string
  required?: boolean
  /** For selectors: value and display of each choice. */
  values?: Array<{ value: string; display: string; default?: boolean }>
}

/** What Wireshark asked for: the parsed extcap command line. */
export interface ExtcapRequest {
  action: 'interfaces' | 'version' | 'dlts' | 'config' | 'capture' | 'none'
  interface?: string
  fifo?: string
  captureFilter?: string
  /** Interface options (`--snaplen 100`, `--no-promiscuous`) by their call without dashes. */
  options: Map<string, string | true>
}

/** The options of every netkit-IFACE interface. */
export function captureArgs(): ExtcapArg[] {
  return [
    { call: '--snaplen', display: 'Snapshot length', type: 'unsigned', default: MAX_SNAPLEN, tooltip: 'bytes kept of each packet (tcpdump -s)' },
    { call: '--no-promiscuous', display: 'Do not use promiscuous mode', type: 'boolflag', default: false, tooltip: 'capture only traffic to and from this host (tcpdump -p)' },
    { call: '--ring-kib', display: 'Ring size (KiB)', type: 'unsigned', default: DEFAULT_BUFFER_BYTES / 1024, tooltip: 'the kernel ring of the AF_PACKET socket (tcpdump -B)' },
    { call: '--display-filter', display: 'netkit display filter', type: 'string', tooltip: 'keep only packets this display filter matches, decided by netkit\'s dissectors (netkit -Y)' },
  ]
}

/** The options of netkit-http: the load and its keep-alive knobs. */
export function httpArgs(): ExtcapArg[] {
  return [
    { call: '--url', display: 'URL', type: 'string', required: true, tooltip: 'the target, http://host:port/path' },
    { call: '--connections', display: 'Connections', type: 'unsigned', default: 4, tooltip: 'concurrent connections (netkit http -c)' },
    { call: '--requests', display: 'Requests (0: run for the duration)', type: 'unsigned', default: 0, tooltip: 'total requests, then stop (netkit http -n)' },
    { call: '--duration', display: 'Duration (s)', type: 'unsigned', default: 10, tooltip: 'run this many seconds (netkit http -d)' },
    { call: '--rate', display: 'Rate (requests/s, 0: unpaced)', type: 'unsigned', default: 0, tooltip: 'total requests per second (netkit http --rate)' },
    { call: '--max-idle-per-host', display: 'Idle connections per host', type: 'unsigned', default: 2, tooltip: 'Go MaxIdleConnsPerHost: connections past it are closed after their request' },
    { call: '--idle-timeout', display: 'Idle timeout (ms)', type: 'unsigned', default: 90000, tooltip: 'Go IdleConnTimeout' },
    { call: '--no-keepalive', display: 'No keep-alive', type: 'boolflag', default: false, tooltip: 'one request per connection (Go DisableKeepAlives)' },
    { call: '--capture-interface', display: 'Interface the load leaves on', type: 'string', default: 'lo', tooltip: 'where its packets are captured (lo for a local server)' },
  ]
}

/** Options that take no value (boolflag), by call without dashes. */
function flagOptions(): Set<string> {
  return new Set([...captureArgs(), ...httpArgs()].filter((a) => a.type === 'boolflag').map((a) => a.call.slice(2)))
}

/**
 * Parses an extcap command line. Every option may be given as `--name value` or `--name=value`;
 * unknown ones are kept in `options` (and so ignored by the caller unless it knows them).
 */
export function parseExtcapArgs(argv: readonly string[]): ExtcapRequest {
  const req: ExtcapRequest = { action: 'none', options: new Map() }
  const flags = flagOptions()
  // Options of the protocol itself that never take a value.
  const bare = new Set(['extcap-interfaces', 'extcap-dlts', 'extcap-config', 'capture', 'debug', 'extcap-reload-option'])
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) continue
    const eq = a.indexOf('=')
    const name = a.slice(2, eq < 0 ? undefined : eq)
    let value: string | true = true
    if (eq >= 0) value = a.slice(eq + 1)
    else if (!bare.has(name) && !flags.has(name) && i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i]
    switch (name) {
      case 'extcap-interfaces': req.action = 'interfaces'; break
      case 'extcap-version': if (req.action === 'none') req.action = 'version'; break
      case 'extcap-dlts': req.action = 'dlts'; break
      case 'extcap-config': req.action = 'config'; break
      case 'capture': req.action = 'capture'; break
      case 'extcap-interface': if (value !== true) req.interface = value; break
      case 'fifo': if (value !== true) req.fifo = value; break
      case 'extcap-capture-filter': if (value !== true) req.captureFilter = value; break
      default: req.options.set(name, value)
    }
  }
  return req
}

/** A `{key=value}` list; braces and newlines in values would end the pair, so they go. */
function pairs(entries: Array<[string, string | number | boolean | undefined]>): string {
  return entries.filter(([, v]) => v !== undefined).map(([k, v]) => `{${k}=${String(v).replace(/[{}\n]/g, ' ')}}`).join('')
}

/** The `extcap` line: who answers, at which version. */
export function versionLine(version: string): string {
  return `extcap ${pairs([['version', version]])}\n`
}

/** The answer to --extcap-interfaces: netkit-IFACE for each capture interface, netkit-any, netkit-http. */
export function interfacesAnswer(version: string, interfaces: readonly NetworkInterface[]): string {
  let out = versionLine(version)
  for (const i of interfaces) out += `interface ${pairs([['value', PREFIX + i.name], ['display', `netkit capture: ${i.name}`]])}\n`
  out += `interface ${pairs([['value', `${PREFIX}any`], ['display', 'netkit capture: every interface (cooked)']])}\n`
  out += `interface ${pairs([['value', HTTP_INTERFACE], ['display', 'netkit http: an HTTP load and its own packets']])}\n`
  return out
}

/** The capture interface an extcap interface name stands for ('' for netkit-http), or throws. */
export function captureInterfaceOf(name: string | undefined): string {
  if (name === undefined || !name.startsWith(PREFIX)) throw new InvalidArgumentError(`--extcap-interface needs one of netkit's interfaces (${PREFIX}IFACE, ${HTTP_INTERFACE}); got '${name ?? ''}'`)
  return name === HTTP_INTERFACE ? '' : name.slice(PREFIX.length)
}

/** The answer to --extcap-dlts for an interface's link type. */
export function dltsAnswer(linkType: number): string {
  return `dlt ${pairs([['number', linkType], ['name', linkTypeName(linkType)], ['display', linkTypeDescription(linkType)]])}\n`
}

/** The link type netkit-any writes. */
export const ANY_LINK_TYPE = LinkType.LINUX_SLL2

/** The answer to --extcap-config: one `arg` line per option (and `value` lines for selectors). */
export function configAnswer(args: readonly ExtcapArg[]): string {
  let out = ''
  args.forEach((a, n) => {
    out += `arg ${pairs([
      ['number', n], ['call', a.call], ['display', a.display], ['type', a.type],
      ['default', a.default], ['tooltip', a.tooltip], ['required', a.required ? 'true' : undefined],
    ])}\n`
    for (const v of a.values ?? []) out += `value ${pairs([['arg', n], ['value', v.value], ['display', v.display], ['default', v.default ? 'true' : undefined]])}\n`
  })
  return out
}

/** A whole number option, or undefined when absent or 0-length; throws a usage error otherwise. */
export function numberOption(req: ExtcapRequest, name: string): number | undefined {
  const v = req.options.get(name)
  if (v === undefined || v === '') return undefined
  const n = Number(v)
  if (v === true || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`--${name} needs a whole number (got '${v === true ? '' : v}')`)
  return n
}

/** A text option, or undefined when absent or empty. */
export function textOption(req: ExtcapRequest, name: string): string | undefined {
  const v = req.options.get(name)
  return v === undefined || v === true || v === '' ? undefined : v
}

/** The `netkit capture` arguments for a netkit-IFACE capture into the fifo. */
export function captureCommandArgs(req: ExtcapRequest, iface: string): string[] {
  if (req.fifo === undefined) throw new InvalidArgumentError('--capture needs --fifo PATH')
  const argv = ['-i', iface, '-w', req.fifo, '-U']
  const snaplen = numberOption(req, 'snaplen')
  if (snaplen !== undefined) argv.push('-s', String(snaplen))
  if (req.options.has('no-promiscuous')) argv.push('-p')
  const ring = numberOption(req, 'ring-kib')
  if (ring !== undefined) argv.push('-B', String(ring))
  const dfilter = textOption(req, 'display-filter')
  if (dfilter !== undefined) argv.push('-Y', dfilter)
  if (req.captureFilter !== undefined && req.captureFilter.trim() !== '') argv.push(req.captureFilter)
  return argv
}

/** The `netkit http` arguments for a netkit-http load whose packets go into the fifo. */
export function httpCommandArgs(req: ExtcapRequest): string[] {
  if (req.fifo === undefined) throw new InvalidArgumentError('--capture needs --fifo PATH')
  const url = textOption(req, 'url')
  if (url === undefined) throw new InvalidArgumentError(`${HTTP_INTERFACE} needs --url`)
  const argv = [url, '--capture', textOption(req, 'capture-interface') ?? 'lo', '-w', req.fifo, '--packet-buffered']
  const connections = numberOption(req, 'connections')
  if (connections) argv.push('-c', String(connections))
  const requests = numberOption(req, 'requests')
  if (requests) argv.push('-n', String(requests))
  else argv.push('-d', `${numberOption(req, 'duration') || 10}s`)
  const rate = numberOption(req, 'rate')
  if (rate) argv.push('--rate', String(rate))
  const idle = numberOption(req, 'max-idle-per-host')
  if (idle !== undefined) argv.push('--max-idle-per-host', String(idle))
  const idleTimeout = numberOption(req, 'idle-timeout')
  if (idleTimeout !== undefined) argv.push('--idle-timeout', String(idleTimeout))
  if (req.options.has('no-keepalive')) argv.push('--no-keepalive')
  return argv
}
