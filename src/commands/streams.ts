import { Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { conversationJson, conversationTable } from '../stream/conversation-table.js'
import { TcpTracker } from '../stream/tcp-tracker.js'
import { streamSourceArgs, streamSourceFlags, trackSource } from '../cli/stream-source.js'

/** `netkit streams`: the TCP conversation table of a capture (like tshark -z conv,tcp). */
export default class Streams extends NetkitCommand {
  static override summary = 'List the TCP conversations in a capture with packets and bytes each way'
  static override examples = ['<%= config.bin %> streams -r web.pcap', '<%= config.bin %> streams -r web.pcap --json']
  static override strict = false
  static override args = streamSourceArgs
  static override flags = {
    ...streamSourceFlags,
    json: Flags.boolean({ description: 'one JSON object per conversation (ndjson), in tcp.stream order' }),
  }

  async run(): Promise<void> {
    const { flags, raw } = await this.parse(Streams)
    const tracker = new TcpTracker()
    await trackSource('streams', flags, raw, tracker)
    const all = tracker.conversations.all
    process.stdout.write(flags.json ? all.map((c) => JSON.stringify(conversationJson(c)) + '\n').join('') : conversationTable(all, tracker.firstSec, tracker.firstNsec))
  }
}
