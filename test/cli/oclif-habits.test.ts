// What oclif CLIs do: a mistyped command names the right one (without a terminal it must not wait
// for an answer), and `netkit autocomplete` gives bash a completion function that completes commands.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { closestCommands } from '../../src/hooks/command-not-found.js'
import { netkit, run, tempDir } from '../helpers/cli.js'

test('a mistyped command suggests the nearest one and fails without waiting for input', async () => {
  // stdin is a pipe here, not a terminal: plugin-not-found would ask (y/n); netkit answers at once.
  const r = await netkit(['captur'], { timeoutMs: 20_000 })
  assert.equal(r.signal, null, 'netkit waited for an answer')
  assert.equal(r.code, 2, r.stderr)
  assert.equal(r.stderr, "netkit: 'captur' is not a netkit command; did you mean 'netkit capture'? (netkit help lists them)\n")
  const far = await netkit(['frobnicate'])
  assert.equal(far.code, 2)
  assert.equal(far.stderr, "netkit: 'frobnicate' is not a netkit command (netkit help lists them)\n")
})

test('closestCommands: prefixes first, then edit distance, nothing when far', () => {
  const ids = ['capture', 'read', 'filter', 'follow', 'http', 'http-log', 'dissectors', 'dissectors:new']
  assert.deepEqual(closestCommands('cap', ids), ['capture'])
  assert.deepEqual(closestCommands('raed', ids), ['read'])
  assert.deepEqual(closestCommands('filtre', ids), ['filter'])
  assert.deepEqual(closestCommands('htp', ids), ['http'])
  assert.deepEqual(closestCommands('zzzzzzzz', ids), [])
})

test('netkit autocomplete: the bash script completes `netkit cap` to capture and `netkit read --dis` to its flag', async () => {
  const { dir, cleanup } = tempDir('netkit-ac-')
  try {
    // The plugin keeps its generated functions under the cache folder; keep them in the temp dir.
    const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache'), HOME: dir }
    const setup = await netkit(['autocomplete', 'bash', '--refresh-cache'], { env })
    assert.equal(setup.code, 0, setup.stderr)
    const script = await netkit(['autocomplete', 'script', 'bash'], { env })
    assert.equal(script.code, 0, script.stderr)
    assert.match(script.stdout, /bash_setup/)
    const complete = (words: string[]) => run('bash', ['-c', `${script.stdout}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMP_LINE='${words.join(' ')}'; COMP_POINT=\${#COMP_LINE}
complete -p netkit >/dev/null || { echo 'no completion registered for netkit' >&2; exit 1; }
fn=$(complete -p netkit | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p'); "$fn" netkit "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"`], { env })
    const cap = await complete(['netkit', 'cap'])
    assert.equal(cap.code, 0, cap.stderr)
    assert.deepEqual(cap.stdout.trim().split('\n'), ['capture'])
    const flag = await complete(['netkit', 'read', '--display'])
    assert.equal(flag.code, 0, flag.stderr)
    assert.deepEqual(flag.stdout.trim().split(/\s+/), ['--display-filter'])
  } finally {
    cleanup()
  }
})
