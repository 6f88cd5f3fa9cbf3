import { Flags } from '@oclif/core'
import { NetkitCommand } from '../../cli/base-command.js'
import { extcapFolder, uninstallLauncher } from '../../extcap/launcher.js'

/** `netkit extcap uninstall`: remove the launcher that install wrote. */
export default class ExtcapUninstall extends NetkitCommand {
  static override summary = 'Remove netkit\'s extcap launcher from Wireshark\'s extcap folder'
  static override flags = {
    dir: Flags.string({ description: 'extcap folder (default: the one `tshark -G folders` names)', helpValue: 'DIR' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(ExtcapUninstall)
    const path = uninstallLauncher(flags.dir ?? extcapFolder())
    process.stdout.write(path ? `removed ${path}\n` : 'no netkit launcher there; nothing removed\n')
  }
}
