/**
 * Last-resort reporting for errors that escape a command (oclif's own: unknown command, bad
 * flags before a command runs). One clean line on stderr; the stack only with DEBUG set.
 */
import { NetkitError, ExitStatus } from '../errors.js'

/** Prints one line for `err` and sets the exit status; never rethrows. */
export function reportFatal(err: unknown): void {
  const e = err as { message?: string; oclif?: { exit?: number }; code?: string; exitStatus?: number; stack?: string }
  if (e?.code === 'EEXIT') {
    process.exitCode = e.oclif?.exit ?? 0
    return
  }
  if (process.env.DEBUG && e?.stack) process.stderr.write(`${e.stack}\n`)
  const status = err instanceof NetkitError ? err.exitStatus : (e?.oclif?.exit ?? ExitStatus.usage)
  const message = firstLine(e?.message ?? String(err))
  process.stderr.write(`netkit: ${message}\n`)
  process.exitCode = status
}

/**
 * Reports an error a command's run ended with (oclif's catch() of every netkit command, and
 * bin/run.js's fast path): one line on stderr and the exit status DESIGN.md fixes.
 */
export function reportCommandError(id: string, err: Error & { oclif?: { exit?: number }; code?: string }): void {
  if (process.env.DEBUG && err.stack) process.stderr.write(`${err.stack}\n`)
  if (err instanceof NetkitError) {
    const hint = err.hint ? ` (${err.hint})` : ''
    process.stderr.write(`netkit ${id}: ${err.message}${hint}\n`)
    process.exitCode = err.exitStatus
    return
  }
  if (err.oclif?.exit !== undefined || err.name === 'CLIError' || /Parse|Flag|Arg/i.test(err.constructor?.name ?? '')) {
    process.stderr.write(`netkit ${id}: ${firstLine(err.message)} (see netkit ${id} --help)\n`)
    process.exitCode = ExitStatus.usage
    return
  }
  // Not one of ours: a bug. Say so in one line; DEBUG shows the stack.
  process.stderr.write(`netkit ${id}: internal error: ${firstLine(err.message ?? String(err))} (set DEBUG=1 for the stack)\n`)
  process.exitCode = ExitStatus.runtime
}

/** The first non-empty line of a message, without oclif's decorations. */
export function firstLine(message: string): string {
  // oclif colours and prefixes some messages ("Error: ", " ›   "); strip those.
  const plain = message.replace(/\u001b\[[0-9;]*m/g, '')
  const lines = plain.split('\n')
    .map((l) => l.replace(/^\s*(›\s*)?(Error:)?\s*/, '').trim())
    .filter((l) => l.length > 0 && !/^The following errors? occurred:?$/i.test(l) && !/^See more help with/i.test(l))
  // oclif splits some messages over two lines ("Parsing --count" / "Expected an integer ..."): join them.
  const line = lines.length > 1 && /^Parsing --\S+$/.test(lines[0]) ? `${lines[0]}: ${lines[1]}` : lines[0]
  return line ?? 'unknown error'
}
