// The help pages follow the README: every netkit command line the README shows (in its code
// blocks, as a user types it) is among the EXAMPLES of that command's `netkit CMD --help`.
// Compared as a user would read them: without `$`, `sudo`, `npx`, a trailing pipe, `&` or
// comment, with capture and report file names written FILE.pcap (FILE.pcapng, FILE.html) and the
// demo server's port written as 8080.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { netkit, root } from '../helpers/cli.js'

function normalize(line: string): string {
  return line
    .replace(/\s+#.*$/, '')
    .replace(/\s*\|.*$/, '')
    .replace(/\s*[&\\]$/, '')
    .replace(/(?<=\s)(?:\.{0,2}\/)?(?:[\w.-]+\/)*[\w.-]+\.(pcapng|pcap|html)\b/g, 'FILE.$1')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:8080')
    .trim()
}

/** The README's netkit command lines, skipping a line followed by netkit's error output (a demonstrated mistake). */
function readmeExamples(): string[] {
  const out: string[] = []
  let inCode = false
  const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n')
  lines.forEach((raw, i) => {
    if (raw.startsWith('```')) { inCode = !inCode; return }
    if (!inCode) return
    const m = /^(?:\$ )?(?:sudo )?(?:npx )?(netkit \S.*)$/.exec(raw.trim())
    if (m === null || /^netkit [\w-]+: /.test(m[1])) return
    if (/^netkit [\w-]+: /.test(lines[i + 1] ?? '')) return
    out.push(normalize(m[1]))
  })
  return out
}

test('every netkit command line in the README is an example on its command\'s help page', async () => {
  const examples = readmeExamples()
  assert.ok(examples.length >= 20, `only ${examples.length} README examples found`)
  const ids = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')).commands as Record<string, unknown>
  const byCommand = new Map<string, string[]>()
  for (const ex of examples) {
    const words = ex.split(' ').slice(1)
    // The longest run of leading words that names a command: `dissectors new`, `extcap install`.
    let id = ''
    for (let n = words.length; n > 0 && id === ''; n--) if (words.slice(0, n).join(':') in ids) id = words.slice(0, n).join(' ')
    assert.notEqual(id, '', `README example names no netkit command: ${ex}`)
    byCommand.set(id, [...(byCommand.get(id) ?? []), ex])
  }
  const missing: string[] = []
  for (const [id, wanted] of byCommand) {
    const help = await netkit([...id.split(' '), '--help'])
    assert.equal(help.code, 0, help.stderr)
    const shown = new Set(help.stdout.split('\n').map((l) => /^\s*(?:\$ )?(?:sudo )?(netkit .*)$/.exec(l)?.[1]).filter((l) => l !== undefined).map(normalize))
    for (const ex of wanted) if (!shown.has(ex)) missing.push(ex)
  }
  assert.deepEqual(missing, [], 'README examples missing from `netkit CMD --help`')
})
