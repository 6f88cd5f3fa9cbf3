/**
 * The base of every netkit command: maps NetkitError (and oclif's parse errors) to one clean line
 * on stderr and the exit status DESIGN.md fixes. Library code never imports oclif; this is the
 * only place where errors meet the CLI.
 */
import { Command } from '@oclif/core'
import { NetkitError, ExitStatus } from '../errors.js'
import { firstLine } from './fatal.js'

/** A netkit command. Subclasses implement `run()`. */
export abstract class NetkitCommand extends Command {
  /** The command as users type it (`dissectors new`: oclif's ids join topics with ':'). */
  private get spelled(): string {
    return (this.id ?? '').replaceAll(':', ' ')
  }

  protected override async catch(err: Error & { oclif?: { exit?: number }; code?: string }): Promise<void> {
    if (err.code === 'EEXIT') throw err // this.exit(): let oclif end the process with its status
    if (process.env.DEBUG && err.stack) process.stderr.write(`${err.stack}\n`)
    if (err instanceof NetkitError) {
      const hint = err.hint ? ` (${err.hint})` : ''
      process.stderr.write(`netkit ${this.spelled}: ${err.message}${hint}\n`)
      process.exitCode = err.exitStatus
      return
    }
    if (err.oclif?.exit !== undefined || err.name === 'CLIError' || /Parse|Flag|Arg/i.test(err.constructor?.name ?? '')) {
      process.stderr.write(`netkit ${this.spelled}: ${firstLine(err.message).replaceAll(`netkit ${this.id} `, `netkit ${this.spelled} `)} (see netkit ${this.spelled} --help)\n`)
      process.exitCode = ExitStatus.usage
      return
    }
    // Not one of ours: a bug. Say so in one line; DEBUG shows the stack.
    process.stderr.write(`netkit ${this.spelled}: internal error: ${firstLine(err.message ?? String(err))} (set DEBUG=1 for the stack)\n`)
    process.exitCode = ExitStatus.runtime
  }
}
