import { join } from 'node:path'
import { Flags } from '@oclif/core'
import { NetkitCommand } from '../../cli/base-command.js'
import { extcapFolder, installLauncher } from '../../extcap/launcher.js'

/** `netkit extcap install`: make netkit's interfaces appear in Wireshark and tshark -D. */
export default class ExtcapInstall extends NetkitCommand {
  static override summary = 'Install the launcher that shows netkit\'s interfaces in Wireshark (netkit-IFACE, netkit-http)'
  static override examples = [
    'sudo <%= config.bin %> extcap install',
    '<%= config.bin %> extcap install --dir ~/.config/wireshark/extcap',
  ]
  static override flags = {
    dir: Flags.string({ description: 'extcap folder (default: the one `tshark -G folders` names)', helpValue: 'DIR' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(ExtcapInstall)
    const dir = flags.dir ?? extcapFolder()
    const path = installLauncher(dir, process.execPath, join(this.config.root, 'bin', 'run.js'))
    process.stdout.write(`installed ${path}; Wireshark and tshark -D now list netkit-IFACE and netkit-http\n`)
  }
}
