import { Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { TextOutput } from '../format/output.js'
import { formatTransaction, HttpTransactionLog, transactionJson } from '../stream/http-log.js'
import { TcpTracker } from '../stream/tcp-tracker.js'
import { streamSourceArgs, streamSourceFlags, trackSource } from '../cli/stream-source.js'

/** `netkit http-log`: one line per HTTP transaction reconstructed from a capture. */
export default class HttpLog extends NetkitCommand {
  static override summary = 'List the HTTP/1.x transactions in a capture, reassembled from TCP'
  static override description = 'One line per request and its response: time, client, server, method, host, URI, status, request and response bytes, time to first byte (request end to first response byte) and total time.'
  static override examples = [
    '<%= config.bin %> http-log -r web.pcap',
    "<%= config.bin %> http-log -r web.pcap -Y 'ip.addr == 10.0.0.0/8'",
    '<%= config.bin %> http-log -r web.pcap --json | jq .status',
  ]
  static override strict = false
  static override args = streamSourceArgs
  static override flags = {
    ...streamSourceFlags,
    json: Flags.boolean({ description: 'one JSON object per transaction (ndjson)' }),
  }

  async run(): Promise<void> {
    const { flags, raw } = await this.parse(HttpLog)
    const out = new TextOutput()
    const log = new HttpTransactionLog((t) => out.write(flags.json ? JSON.stringify(transactionJson(t)) + '\n' : formatTransaction(t)))
    const tracker = new TcpTracker(log.handler)
    try {
      await trackSource('http-log', flags, raw, tracker, () => out.flush())
    } finally {
      await out.end()
      if (tracker.budget.overflows > 0) {
        process.stderr.write(`netkit http-log: reassembly gave up ${tracker.budget.overflows} gaps (${tracker.budget.overflowBytes} bytes) at its memory caps\n`)
      }
    }
  }
}
