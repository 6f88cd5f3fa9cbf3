import { readFileSync } from 'node:fs'
import { Args, Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { InvalidArgumentError, fileAccessError } from '../errors.js'
import { parseDuration } from '../http/duration.js'
import { runLoad, type LoadOptions } from '../http/load-generator.js'
import { buildReport, formatProgress, formatReport } from '../http/load-report.js'
import { RequestSpec, parseHeaderArg } from '../http/request-spec.js'
import { WireCapture } from '../http/wire-capture.js'
import { temporaryCapture, writeLoadReport } from '../report/load-report-file.js'
import { LoadTimeline } from '../report/load-timeline.js'
import { tlsOptions } from '../http/tls-flags.js'

/** `netkit http URL`: generate HTTP/1.1 load with netkit's keep-alive transport and report it. */
export default class Http extends NetkitCommand {
  static override summary = 'Generate HTTP/1.1 load with netkit\'s keep-alive transport and report latency and connection reuse'
  static override examples = [
    '<%= config.bin %> http http://127.0.0.1:8080/ -c 10 -d 5s',
    '<%= config.bin %> http http://127.0.0.1:8080/ -c 4 -n 200 --think 2 --max-idle-per-host 2',
    '<%= config.bin %> http http://127.0.0.1:8080/ -c 4 -n 200 --think 2 --max-idle-per-host 4',
    '<%= config.bin %> http http://127.0.0.1:8080/ -c 4 -n 200 --think 2 --max-idle-per-host 2 --capture lo -w run.pcap',
    '<%= config.bin %> http http://127.0.0.1:8080/ -c 4 -n 200 --no-read-body --capture lo',
    '<%= config.bin %> http https://127.0.0.1:8443/ -c 4 -n 200 --max-idle-per-host 4 --insecure --capture lo -w run.pcapng',
    '<%= config.bin %> http http://127.0.0.1:8080/ -c 8 -d 3s --think 2 --max-idle-per-host 2 --report load.html --capture lo',
    '<%= config.bin %> http http://127.0.0.1:8080/ -c 10 -n 100 --no-keepalive --capture lo -w run.pcap',
    "<%= config.bin %> http http://127.0.0.1:8080/api -m POST --body '{\"a\":1}' -H 'Content-Type: application/json' --rate 500 -d 30s --json",
  ]
  static override args = {
    url: Args.string({ description: 'target URL (http[s]://host[:port]/path)', required: true, ignoreStdin: true }),
  }
  static override flags = {
    connections: Flags.integer({ char: 'c', description: 'concurrent connections (workers)', default: 10, min: 1, max: 100_000, helpValue: 'CONNS' }),
    requests: Flags.integer({ char: 'n', description: 'total requests, then stop', min: 1, exclusive: ['duration'], helpValue: 'N' }),
    duration: Flags.string({ char: 'd', description: 'run this long (500ms, 5s, 2m; default 10s unless -n)', helpValue: 'DURATION' }),
    method: Flags.string({ char: 'm', description: 'request method', default: 'GET', helpValue: 'METHOD' }),
    header: Flags.string({ char: 'H', description: "request header 'Name: value' (repeatable)", multiple: true, multipleNonGreedy: true, helpValue: "'K: V'" }),
    body: Flags.string({ description: 'request body', exclusive: ['body-file'], helpValue: 'STR' }),
    'body-file': Flags.string({ description: 'request body from a file', helpValue: 'FILE' }),
    rate: Flags.integer({ description: 'total requests per second (latency then counts from the intended send time)', min: 1, helpValue: 'R' }),
    think: Flags.integer({ description: 'pause of each worker between its requests, ms', min: 0, default: 0, helpValue: 'MS' }),
    'max-idle-per-host': Flags.integer({ description: 'idle connections kept per host (Go MaxIdleConnsPerHost)', min: 0, default: 2, helpValue: 'N' }),
    'max-idle': Flags.integer({ description: 'idle connections kept in all, 0 = no limit (Go MaxIdleConns)', min: 0, default: 100, helpValue: 'N' }),
    'max-conns-per-host': Flags.integer({ description: 'connections per host, 0 = no limit (Go MaxConnsPerHost)', min: 0, default: 0, helpValue: 'N' }),
    'idle-timeout': Flags.integer({ description: 'close connections idle this long, ms (Go IdleConnTimeout)', min: 0, default: 90_000, helpValue: 'MS' }),
    'no-keepalive': Flags.boolean({ description: 'one request per connection (Go DisableKeepAlives)' }),
    'no-read-body': Flags.boolean({ description: 'never read response bodies, like a client that forgets to: each such connection is closed, not reused (as Go\'s Transport does)' }),
    timeout: Flags.integer({ description: 'whole-request timeout (also the connect timeout), ms; 0 = none', min: 0, default: 10_000, helpValue: 'MS' }),
    pipeline: Flags.integer({ description: 'idempotent requests in flight per connection (HTTP pipelining)', min: 1, max: 1024, default: 1, helpValue: 'N' }),
    json: Flags.boolean({ description: 'print the report as JSON' }),
    insecure: Flags.boolean({ char: 'k', description: 'https: accept any server certificate (curl -k)' }),
    cacert: Flags.string({ description: 'https: trust the CA certificates in this PEM file instead of the system\'s', helpValue: 'FILE' }),
    servername: Flags.string({ description: 'https: the name sent in SNI and checked in the certificate (default: the URL\'s host)', helpValue: 'NAME' }),
    keylog: Flags.string({ description: 'https: append the TLS secrets to FILE in the NSS key log format (SSLKEYLOGFILE) for Wireshark', helpValue: 'FILE' }),
    warmup: Flags.string({ description: 'load the target this long before the -d duration and count none of it (JIT warm-up, as autocannon --warmup; the connections stay)', exclusive: ['requests', 'rate'], helpValue: 'DURATION' }),
    capture: Flags.string({ description: 'also capture the traffic to the target on IFACE and report the SYNs seen beside the dials (needs root or CAP_NET_RAW)', helpValue: 'IFACE' }),
    write: Flags.string({ char: 'w', description: 'with --capture: write the packets to FILE (pcap; pcapng when FILE ends in .pcapng)', dependsOn: ['capture'], helpValue: 'FILE' }),
    report: Flags.string({ description: 'also write the run as a self-contained HTML report with plots (requests/s, latency, connections, status codes over time)', helpValue: 'FILE.html' }),
    'packet-buffered': Flags.boolean({ char: 'U', description: 'with -w: hand each batch of packets to the file as it comes (a fifo read live)', dependsOn: ['write'] }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Http)
    let body: Buffer | undefined
    if (flags.body !== undefined) body = Buffer.from(flags.body)
    if (flags['body-file'] !== undefined) {
      try {
        body = readFileSync(flags['body-file'])
      } catch (err) {
        throw fileAccessError(flags['body-file'], err, 'read the request body')
      }
    }
    const request = { url: args.url, method: flags.method.toUpperCase(), headers: (flags.header ?? []).map(parseHeaderArg), body }
    const spec = new RequestSpec(request) // checks URL, method and headers up front (exit 2)
    if (flags.pipeline > 1 && !spec.idempotent) throw new InvalidArgumentError(`--pipeline needs an idempotent method (GET, HEAD, OPTIONS, TRACE), not ${spec.method}`)
    const durationMs = flags.requests === undefined ? parseDuration(flags.duration ?? '10s') : undefined
    const warmupMs = flags.warmup === undefined ? 0 : parseDuration(flags.warmup, '--warmup')
    const tty = process.stderr.isTTY === true && !flags.json
    const tls = await tlsOptions(flags, spec.target.scheme === 'https')
    const loadOptions: LoadOptions = {
      connections: flags.connections,
      requests: flags.requests,
      durationMs,
      rate: flags.rate,
      thinkMs: flags.think,
      readBody: !flags['no-read-body'],
      warmupMs,
      transport: {
        maxIdleConnsPerHost: flags['max-idle-per-host'],
        maxIdleConns: flags['max-idle'],
        // Pipelining: `-c` connections, each carrying `--pipeline` requests.
        maxConnsPerHost: flags['max-conns-per-host'] > 0 || flags.pipeline === 1 ? flags['max-conns-per-host'] : flags.connections,
        idleConnTimeout: flags['idle-timeout'],
        disableKeepAlives: flags['no-keepalive'],
        requestTimeout: flags.timeout,
        connectTimeout: flags.timeout,
        pipeline: flags.pipeline,
        tls: tls.options,
      },
      onProgress: tty ? (p) => process.stderr.write(`\r\u001b[K${formatProgress(p)}`) : undefined,
    }
    // The capture opens before the first dial, so it sees every SYN of the run.
    const timeline = flags.report === undefined ? undefined : new LoadTimeline()
    loadOptions.observer = timeline
    // A report shows the SYNs' times, read back from the capture file (a temporary one without -w).
    const scratch = timeline !== undefined && flags.capture !== undefined && flags.write === undefined ? temporaryCapture() : undefined
    const wireFile = flags.write ?? scratch?.file
    const wire = flags.capture === undefined ? undefined : await WireCapture.open({ interface: flags.capture, host: spec.target.host, port: spec.target.port, file: wireFile, packetBuffered: flags['packet-buffered'], secrets: tls.secrets })
    let result
    try {
      result = await runLoad(request, loadOptions)
    } catch (err) {
      wire?.close()
      scratch?.remove()
      throw err
    }
    const wireReport = await wire?.finish()
    if (wireReport && scratch) delete wireReport.file // the report's scratch copy is no output of the run
    tls.close()
    if (tty) process.stderr.write('\r\u001b[K')
    const report = buildReport(result, { url: args.url, method: spec.method, connections: flags.connections, pipeline: flags.pipeline }, wireReport)
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report))
    if (timeline !== undefined) {
      try {
        await writeLoadReport(flags.report!, timeline, report, (p) => result.latency.percentile(p), wireFile === undefined ? undefined : { file: wireFile, port: spec.target.port })
      } finally {
        scratch?.remove()
      }
    }
    if (report.requests > 0 && report.ok === 0) {
      process.stderr.write(`netkit http: all ${report.requests} requests failed (${Object.entries(report.errorKinds).map(([k, v]) => `${k}: ${v}`).join(', ')})\n`)
      process.exitCode = 1
    }
  }
}
