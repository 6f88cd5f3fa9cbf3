import { Args, Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { outputFlags } from '../cli/common-flags.js'
import { filterExpression } from '../cli/filter-expression.js'
import { runRead } from '../cli/read-command.js'

/** `netkit read`: read a pcap or pcapng file, print its packets or rewrite them (see runRead). */
export default class Read extends NetkitCommand {
  static override summary = 'Read packets from a pcap or pcapng file (like tcpdump -r / tshark -r)'
  static override strict = false
  static override examples = [
    '<%= config.bin %> read -r capture.pcap',
    '<%= config.bin %> read -r capture.pcap -T fields -e frame.number -e frame.time_epoch -e ip.src -e tcp.flags -e tcp.stream',
    "<%= config.bin %> read -r in.pcap -w out.pcapng -F pcapng --nano 'tcp port 80'",
    "<%= config.bin %> read -r web.pcap -Y 'http.response.code >= 400' -w errors.pcap",
    "<%= config.bin %> read -r web.pcap -Y 'http.request.method == \"GET\" && tcp.len > 0' -T fields -e http.request.uri",
    '<%= config.bin %> read -r web.pcap -d tcp.port==8888,http',
    '<%= config.bin %> read -r f.pcap -o nkp.port:7000',
    '<%= config.bin %> read -r web.pcap -T ek',
    'cat capture.pcap | <%= config.bin %> read -r - -c 10',
  ]
  static override args = {
    filter: Args.string({ description: 'pcap-filter(7) expression (the trailing words, as in tcpdump)', required: false, ignoreStdin: true }),
  }
  static override flags = {
    read: Flags.string({ char: 'r', description: 'file to read (- for standard input)', required: true, helpValue: 'FILE' }),
    ...outputFlags,
  }

  async run(): Promise<void> {
    const { flags, raw } = await this.parse(Read)
    await runRead(flags, filterExpression(raw))
  }
}
