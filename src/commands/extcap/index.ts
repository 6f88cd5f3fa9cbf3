import { NetkitCommand } from '../../cli/base-command.js'
import { findInterface, listInterfaces } from '../../capture/interfaces.js'
import {
  ANY_LINK_TYPE, HTTP_INTERFACE, captureArgs, captureCommandArgs, captureInterfaceOf, configAnswer, dltsAnswer,
  httpArgs, httpCommandArgs, interfacesAnswer, parseExtcapArgs, versionLine,
} from '../../extcap/protocol.js'
import { InvalidArgumentError } from '../../errors.js'
import { LinkType } from '../../pcap/link-types.js'

/**
 * `netkit extcap ...`: Wireshark's extcap protocol, run by the launcher that `netkit extcap
 * install` puts in Wireshark's extcap folder. Its options are Wireshark's, parsed here (unknown
 * ones are ignored, as the protocol asks), not oclif flags.
 */
export default class Extcap extends NetkitCommand {
  static override summary = 'Answer Wireshark\'s extcap protocol: netkit interfaces inside Wireshark (see extcap install)'
  static override strict = false
  static override examples = [
    '<%= config.bin %> extcap --extcap-interfaces',
    '<%= config.bin %> extcap --extcap-interface netkit-lo --extcap-config',
    '<%= config.bin %> extcap --capture --extcap-interface netkit-lo --fifo /tmp/fifo --extcap-capture-filter "tcp port 80"',
  ]

  async run(): Promise<void> {
    const req = parseExtcapArgs(this.argv)
    const version = this.config.version
    switch (req.action) {
      case 'interfaces':
        process.stdout.write(interfacesAnswer(version, listInterfaces()))
        return
      case 'version':
        process.stdout.write(versionLine(version))
        return
      case 'dlts': {
        const iface = captureInterfaceOf(req.interface)
        process.stdout.write(dltsAnswer(linkTypeOf(iface)))
        return
      }
      case 'config':
        process.stdout.write(configAnswer(req.interface === HTTP_INTERFACE ? httpArgs() : captureArgs()))
        return
      case 'capture': {
        const iface = captureInterfaceOf(req.interface)
        if (iface === '') {
          // Wireshark ends a capture with SIGTERM: the load stops there, the fifo holds what came.
          process.once('SIGTERM', () => process.exit(0))
          await this.config.runCommand('http', httpCommandArgs(req))
        } else {
          await this.config.runCommand('capture', captureCommandArgs(req, iface))
        }
        return
      }
      default:
        throw new InvalidArgumentError('give one of --extcap-interfaces, --extcap-dlts, --extcap-config or --capture (Wireshark runs this; see netkit extcap install)')
    }
  }
}

/** The link type a capture on `iface` writes ('' is netkit-http, on loopback by default). */
function linkTypeOf(iface: string): number {
  if (iface === 'any') return ANY_LINK_TYPE
  if (iface === '') return LinkType.EN10MB
  const found = findInterface(iface)
  if (!found) throw new InvalidArgumentError(`no interface named '${iface}'`)
  return found.linkType
}
