import { Args, Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { filterExpression } from '../cli/filter-expression.js'
import { InvalidArgumentError } from '../errors.js'
import { compileFilter, formatProgram, formatProgramC, formatProgramDecimal } from '../filter/index.js'
import { LinkType, linkTypeByName } from '../pcap/link-types.js'

/** `netkit filter`: compile a pcap-filter expression and print the BPF program like tcpdump -d. */
export default class Filter extends NetkitCommand {
  static override summary = 'Compile a pcap-filter(7) expression to classic BPF and print it (like tcpdump -d/-dd/-ddd)'
  static override strict = false
  static override examples = [
    "<%= config.bin %> filter -d 'tcp port 80 and host 10.0.0.1'",
    '<%= config.bin %> filter -dd --linktype LINUX_SLL2 udp and port 53',
    '<%= config.bin %> filter --live vlan 100',
  ]
  static override args = {
    expr: Args.string({ description: 'pcap-filter(7) expression (the trailing words, as in tcpdump)', required: false, ignoreStdin: true }),
  }
  static override flags = {
    d: Flags.boolean({ char: 'd', description: 'print the program as readable assembly (repeat: -dd C array, -ddd decimal)', default: false }),
    dd: Flags.boolean({ description: 'print the program as a C array (tcpdump -dd)', default: false }),
    ddd: Flags.boolean({ description: 'print the program in decimal, count first (tcpdump -ddd)', default: false }),
    linktype: Flags.string({ char: 'y', description: 'link type: EN10MB, LINUX_SLL, LINUX_SLL2, RAW, NULL, LOOP (or a number)', default: 'EN10MB', helpValue: 'NAME' }),
    live: Flags.boolean({ description: 'generate code for a live socket (kernel ancillary loads for VLAN and direction)', default: false }),
    snaplen: Flags.integer({ char: 's', description: 'snapshot length the program accepts', default: 262144, min: 1 }),
    'no-optimize': Flags.boolean({ char: 'O', description: 'do not run the optimizer (tcpdump -O)', default: false }),
  }

  async run(): Promise<void> {
    const { flags, raw } = await this.parse(Filter)
    const expr = filterExpression(raw)
    const linkType = linkTypeByName(flags.linktype)
    if (linkType === undefined) throw new InvalidArgumentError(`unknown link type '${flags.linktype}' (try EN10MB, LINUX_SLL, LINUX_SLL2, RAW, NULL, LOOP)`)
    const { program } = compileFilter(expr, { linkType, live: flags.live, snaplen: flags.snaplen, optimize: !flags['no-optimize'], nullSwapped: linkType === LinkType.NULL })
    // tcpdump counts its d's (-dd, -ddd, -d -d); oclif folds repeated short booleans into one.
    const ds = this.argv.filter((a) => /^-d+$/.test(a)).reduce((n, a) => n + a.length - 1, 0)
    const level = flags.ddd ? 3 : flags.dd ? 2 : Math.min(3, Math.max(1, ds))
    process.stdout.write(level === 3 ? formatProgramDecimal(program) : level === 2 ? formatProgramC(program) : formatProgram(program))
  }
}
