// What oclif CLIs do: a mistyped command names the right one (without a terminal it must not wait
// for an answer), and `netkit autocomplete` gives bash a completion function that completes commands,
// flags, interface names for -i and field names for -e and -Y.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { closestCommands } from '../../src/hooks/command-not-found.js'
import { have, netkit, run, tempDir } from '../helpers/cli.js'

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

    // Values: -i offers the interfaces the kernel has now, -e and -Y the names `netkit dissectors` lists.
    const lines = (out: string) => out.split('\n').filter((l) => l !== '').sort()
    const iface = await complete(['netkit', 'capture', '-i', 'l'])
    assert.equal(iface.code, 0, iface.stderr)
    assert.deepEqual(lines(iface.stdout), readdirSync('/sys/class/net').filter((n) => n.startsWith('l')).sort())
    const listed = await netkit(['dissectors', '--json'], { env })
    assert.equal(listed.code, 0, listed.stderr)
    const names = (JSON.parse(listed.stdout) as Array<{ fields: Array<{ name: string }> }>).flatMap((d) => d.fields.map((f) => f.name))
    const field = await complete(['netkit', 'read', '-r', 'x.pcap', '-e', 'http.request.'])
    assert.equal(field.code, 0, field.stderr)
    const wanted = [...new Set(names.filter((n) => n.startsWith('http.request.')))].sort()
    assert.ok(wanted.includes('http.request.method'))
    assert.deepEqual(lines(field.stdout), wanted)
    // In a filter the name under the cursor is completed and what precedes it kept.
    const filter = await complete(['netkit', 'read', '-r', 'x.pcap', '-Y', '(tcp.port==80)&&!http.response.c'])
    assert.equal(filter.code, 0, filter.stderr)
    assert.deepEqual(lines(filter.stdout), [...new Set(names.filter((n) => n.startsWith('http.response.c')))].sort().map((n) => `(tcp.port==80)&&!${n}`))
    // Another flag's value, or a file argument, is left to bash's file names (not command names).
    const file = await complete(['netkit', 'read', '-r', 'ca'])
    assert.equal(file.code, 0, file.stderr)
    assert.equal(file.stdout.trim(), '')
  } finally {
    cleanup()
  }
})

test('netkit autocomplete zsh: zsh completes interface names after -i and field names after -e', { skip: have('zsh') ? false : 'zsh is not installed (CI installs it)' }, async () => {
  const { dir, cleanup } = tempDir('netkit-aczsh-')
  try {
    const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache'), HOME: dir }
    const setup = await netkit(['autocomplete', 'zsh', '--refresh-cache'], { env })
    assert.equal(setup.code, 0, setup.stderr)
    const functions = join(dir, 'cache', 'netkit', 'autocomplete', 'functions', 'zsh')
    // An interactive zsh on a pseudo-terminal (zsh/zpty) types the line and TAB, as a user does;
    // the completed line is echoed back. One TAB completes the unique match in place.
    const typed = async (line: string, expect: string) => {
      const script = `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z 'PS1="%% "; fpath=(${functions} $fpath); autoload -Uz compinit; compinit -u -D; unsetopt beep'
zpty -w -n z $'${line}\\t'
all=""
for i in {1..100}; do
  while zpty -r -t z chunk; do all+=$chunk; done
  [[ "$all" == *${JSON.stringify(expect)}* ]] && break
  sleep 0.1
done
zpty -d z
print -r -- "$all"`
      const r = await run('zsh', ['-f', '-c', script], { env, timeoutMs: 30_000 })
      assert.equal(r.code, 0, r.stderr)
      return r.stdout
    }
    assert.ok((await typed('netkit capture -i l', 'netkit capture -i lo')).includes('netkit capture -i lo'), 'zsh did not complete -i l to lo')
    assert.ok((await typed('netkit read -r x.pcap -e http.request.meth', 'http.request.method')).includes('-e http.request.method'), 'zsh did not complete the field name')
  } finally {
    cleanup()
  }
})
