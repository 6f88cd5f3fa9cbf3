import { Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { listInterfaces } from '../capture/interfaces.js'
import { linkTypeName } from '../pcap/link-types.js'

/** `netkit interfaces`: the interfaces `capture -i` can use (like tcpdump -D, with ip link's details). */
export default class Interfaces extends NetkitCommand {
  static override summary = 'List the network interfaces capture can use (like tcpdump -D)'
  static override examples = ['<%= config.bin %> interfaces', '<%= config.bin %> interfaces --json']
  static override flags = {
    json: Flags.boolean({ description: 'print JSON (one object per interface)' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Interfaces)
    const list = listInterfaces()
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(list.map((i) => ({ ...i, linkTypeName: linkTypeName(i.linkType) })), null, 2)}\n`)
      return
    }
    const rows = list.map((i) => [String(i.index), i.name, linkTypeName(i.linkType), String(i.mtu), i.mac || '-', i.flags.join(',') || '-'])
    rows.push(['-', 'any', 'LINUX_SLL2', '-', '-', 'every interface (cooked headers)'])
    const head = ['INDEX', 'NAME', 'LINK-TYPE', 'MTU', 'MAC', 'FLAGS']
    const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)))
    const line = (r: string[]): string => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]))).join('  ')
    process.stdout.write(`${[head, ...rows].map(line).join('\n')}\n`)
  }
}
