import { Args, Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { configFlag } from '../cli/common-flags.js'
import { displayFilterFlag } from '../cli/display-filter.js'
import { dissectionFlags } from '../cli/dissection-flags.js'
import { displayFilterSelector } from '../cli/stream-source.js'
import { FOLLOW_FORMATS, FollowStream, type FollowFormat } from '../stream/follow.js'
import { TcpTracker } from '../stream/tcp-tracker.js'
import { trackFile } from '../stream/track-file.js'

/** `netkit follow`: print the reassembled data of one TCP stream (like tshark -z follow,tcp). */
export default class Follow extends NetkitCommand {
  static override summary = 'Print the reassembled data of one TCP stream, both directions'
  static override examples = ['<%= config.bin %> follow -r web.pcap 0', '<%= config.bin %> follow -r web.pcap 3 --format hex']
  static override args = {
    stream: Args.integer({ description: 'tcp.stream index (see netkit streams)', required: true, min: 0, ignoreStdin: true }),
  }
  static override flags = {
    read: Flags.string({ char: 'r', description: 'file to read (- for standard input)', required: true, helpValue: 'FILE' }),
    format: Flags.string({ description: 'output layout', options: [...FOLLOW_FORMATS], default: 'ascii' }),
    'display-filter': displayFilterFlag,
    ...dissectionFlags,
    config: configFlag,
  }

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Follow)
    const selector = await displayFilterSelector('follow', flags)
    const follow = new FollowStream(args.stream)
    const tracker = new TcpTracker(follow.handler)
    await trackFile(flags.read, tracker, (w) => process.stderr.write(`netkit follow: warning: ${w}\n`), selector)
    process.stdout.write(follow.format(flags.format as FollowFormat))
    if (!follow.conversation) process.stderr.write(`netkit follow: no tcp.stream ${args.stream} in ${flags.read} (it has ${tracker.conversations.count})\n`)
  }
}
