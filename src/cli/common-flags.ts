/**
 * Flags shared by the commands that print packets (`read`, `capture`) or take a config.
 */
import { Flags } from '@oclif/core'
import { OUTPUT_FORMATS } from '../format/packet-printer.js'
import { displayFilterFlag } from './display-filter.js'
import { dissectionFlags } from './dissection-flags.js'

/** --config PATH. */
export const configFlag = Flags.string({ description: 'configuration file (default: searched for from the current folder)', helpValue: 'PATH' })

/** The output-format flags of `read` and `capture`. */
export const outputFlags = {
  count: Flags.integer({ char: 'c', description: 'stop after N packets', min: 1, helpValue: 'N' }),
  format: Flags.string({ char: 'T', description: 'output format', options: [...OUTPUT_FORMATS], default: 'text' }),
  field: Flags.string({ char: 'e', description: 'field to print with -T fields (Wireshark name; repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'FIELD' }),
  hex: Flags.boolean({ char: 'x', description: 'print each packet in hex (tcpdump -x)' }),
  write: Flags.string({ char: 'w', description: 'write the packets to FILE (- for stdout) instead of printing them', helpValue: 'FILE' }),
  'packet-buffered': Flags.boolean({ char: 'U', description: 'with -w: hand each batch of packets to the file or pipe as it comes (tcpdump -U), for a reader that shows them live' }),
  'file-format': Flags.string({ char: 'F', description: 'format of the file written with -w', options: ['pcap', 'pcapng'], default: 'pcap' }),
  nano: Flags.boolean({ description: 'nanosecond timestamps in the file written (and in text output)' }),
  'display-filter': displayFilterFlag,
  ...dissectionFlags,
  config: configFlag,
}
