/**
 * oclif's command_not_found hook. On a terminal it is @oclif/plugin-not-found's own (it asks
 * "Did you mean capture? (y/n)" and runs the answer). Without one (a script, a pipe, CI) nothing
 * can answer, so it prints the nearest command on one line and fails with the usage status, instead
 * of the plugin's bare "not a netkit command". The plugin is called from here rather than listed in
 * oclif.plugins: oclif runs every plugin's hook for an event at once, and two would race.
 */
import type { Hook } from '@oclif/core'
import { ExitStatus } from '../errors.js'

/** Edit distance (insertions, deletions, substitutions), two rows of the usual table. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = row
  }
  return prev[b.length]
}

/** The command ids nearest to `id` (a prefix counts as nearest: `cap` is `capture`). */
export function closestCommands(id: string, ids: readonly string[]): string[] {
  const prefixed = ids.filter((c) => c.startsWith(id))
  if (prefixed.length > 0) return prefixed.sort()
  let best = Infinity
  let found: string[] = []
  for (const c of ids) {
    const d = distance(id, c)
    if (d < best) { best = d; found = [c] } else if (d === best) found.push(c)
  }
  // Farther than half the word is no longer a typo of it.
  return best <= Math.max(2, Math.ceil(id.length / 2)) ? found.sort() : []
}

const hook: Hook<'command_not_found'> = async function (opts) {
  if (process.stdin.isTTY && process.stderr.isTTY) {
    const { default: interactive } = await import('@oclif/plugin-not-found')
    return (interactive as Hook<'command_not_found'>).call(this, opts)
  }
  const ids = opts.config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases])
  const word = opts.id.replaceAll(':', ' ')
  const near = closestCommands(opts.id, ids).map((c) => c.replaceAll(':', ' '))
  const suggestion = near.length > 0 ? `did you mean ${near.map((c) => `'${opts.config.bin} ${c}'`).join(' or ')}?` : ''
  this.error(`'${word}' is not a ${opts.config.bin} command${suggestion ? `; ${suggestion}` : ''} (${opts.config.bin} help lists them)`, { exit: ExitStatus.usage })
}

export default hook
