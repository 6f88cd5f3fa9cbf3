/**
 * The base of every netkit command: maps NetkitError (and oclif's parse errors) to one clean line
 * on stderr and the exit status DESIGN.md fixes. Library code never imports oclif; this is the
 * only place where errors meet the CLI.
 */
import { Command } from '@oclif/core'
import { reportCommandError } from './fatal.js'

/** A netkit command. Subclasses implement `run()`. */
export abstract class NetkitCommand extends Command {
  protected override async catch(err: Error & { oclif?: { exit?: number }; code?: string }): Promise<void> {
    if (err.code === 'EEXIT') throw err // this.exit(): let oclif end the process with its status
    reportCommandError(String(this.id), err)
  }
}
