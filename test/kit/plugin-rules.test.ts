// The shipped plugins are written as a third party would write them: they import nothing but
// the plugin API, 'netkit/plugin' (not all of 'netkit', whose HTTP client, capture and filter
// compilers every run would then load), and files of their own folder, and write protocol
// numbers by the names netkit exports. `netkit dissectors --check` and the plugin loader say
// what is wrong with a plugin, with its file and line.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { EtherType } from '../../src/dissect/constants.js'
import { netkit, root, tempDir } from '../helpers/cli.js'

const pluginsDir = join(root, 'plugins')

/** Every .js file of plugins/, with its text less comments. */
function pluginSources(): Array<{ file: string; code: string }> {
  const out: Array<{ file: string; code: string }> = []
  for (const dir of readdirSync(pluginsDir)) {
    for (const f of readdirSync(join(pluginsDir, dir)).filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(join(pluginsDir, dir, f), 'utf8')
      out.push({ file: `plugins/${dir}/${f}`, code: text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1') })
    }
  }
  return out
}

/** Tables whose keys are numbers netkit names (EtherType, IpProto, LinkType). */
const NAMED_TABLES = /['"](link|ethertype|ip\.proto)['"]|Table\.(LINK|ETHERTYPE|IP_PROTO)\b/
const LITERAL = /^\s*(0x[0-9a-f]+|\d+)\s*$/i

const ETHER_TYPES = new Set<number>(Object.values(EtherType).filter((v) => v > EtherType.MAX_8023_LENGTH))

/** What the rules find in one file's code (comments removed). */
function ruleProblems(file: string, code: string): string[] {
  const problems: string[] = []
  // Import statements (at a line's start, so a string holding "from '" is not one) and import().
  for (const m of code.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/gm)) {
    const spec = m[1] ?? m[2]
    if (spec !== 'netkit/plugin' && !/^\.\/[\w.-]+$/.test(spec)) problems.push(`${file}: imports '${spec}' (only 'netkit/plugin' and files of its own folder)`)
  }
  // Register entries and hand-offs to a named table with a literal key.
  for (const m of code.matchAll(/\{\s*table:\s*([^,]+),\s*key:\s*([^}]+?)\s*\}/g)) {
    if (NAMED_TABLES.test(m[1]) && LITERAL.test(m[2])) problems.push(`${file}: ${m[0]} (write the key by its name)`)
  }
  for (const m of code.matchAll(/\.(next|hasNext|nextStream)\(\s*([^,]+),\s*([^,)]+)/g)) {
    if (NAMED_TABLES.test(m[2]) && LITERAL.test(m[3])) problems.push(`${file}: ${m[0]} (write the key by its name)`)
  }
  // EtherTypes written as numbers anywhere, and TCP flag bits tested by number in TCP's own
  // files (0xff and 0xfff are the flag byte and the whole field, not flags; other protocols'
  // flag bits, GRE's or Geneve's, have no names in netkit).
  // (in a file that deals in EtherTypes: elsewhere 0x0800 is a flag bit, not IPv4)
  if (/ethertype|gre\.proto|GRE_PROTO/i.test(code)) {
    for (const m of code.matchAll(/\b0x[0-9a-f]{4}\b/gi)) if (ETHER_TYPES.has(Number(m[0]))) problems.push(`${file}: ${m[0]} is an EtherType (EtherType.*)`)
  }
  if (/(^|\/)tcp\//.test(file)) {
    for (const m of code.matchAll(/\bflags\s*&\s*(0x[0-9a-f]+|\d+)/gi)) if (!/^0xf+$/i.test(m[1])) problems.push(`${file}: '${m[0]}' (TcpFlags.*)`)
  }
  return problems
}

test('no shipped plugin imports another plugin\'s file or writes a named protocol number', () => {
  const sources = pluginSources()
  assert.ok(sources.length >= 14, 'every shipped plugin is looked at')
  assert.deepEqual(sources.flatMap(({ file, code }) => ruleProblems(file, code)), [])
})

test('the rules catch the lines plugins used to have', () => {
  const bad = ["{ table: 'ethertype', key: 0x0800 }", "ctx.next('ip.proto', 6, hl)", 'if (etherType === 0x86dd)', 'if (flags & 0x02)', "import { endpoints } from '../udp/index.js'", "import { defineDissector } from 'netkit'"]
  assert.deepEqual(bad.filter((line) => ruleProblems('plugins/tcp/x.js', line).length > 0), bad)
})

test('dissectors --check and the loader say what to fix, with file and line', async (t) => {
  const { dir, cleanup } = tempDir('netkit-check-')
  t.after(cleanup)
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
  // Bad names, a table nothing hands on to, and a dissect that throws on a short view.
  writeFileSync(join(dir, 'bad.js'), `import { defineDissector } from 'netkit'
export default defineDissector({
  name: 'bad',
  fields: {
    a: { name: 'bad.a', type: 'uint' },
    b: { name: 'bad.a', type: 'uint' },
    c: { name: 'Other.Name', type: 'uint' },
  },
  register: [{ table: 'tcp.prot', key: 1 }],
  dissect(view, ctx, f) {
    const bytes = view.data.subarray(view.offset, view.offset + view.captured)
    if (bytes.length < 4) throw new RangeError('too short')
    ctx.add(f.a, 0, 4)
  },
})
`)
  const check = await netkit(['dissectors', '--check', './bad.js'], { cwd: dir })
  assert.equal(check.code, 1)
  const lines = check.stdout.trim().split('\n')
  assert.ok(lines.some((l) => /fields 'a' and 'b' are both named bad\.a/.test(l)), check.stdout)
  assert.ok(lines.some((l) => /field 'c' is named 'Other\.Name': Wireshark-style names/.test(l)), check.stdout)
  assert.ok(lines.some((l) => /registers in table 'tcp\.prot', which no dissector hands on to \(tables: .*tcp\.port/.test(l)), check.stdout)
  assert.ok(lines.some((l) => /dissect throws RangeError: too short at .*bad\.js:12 on an empty view/.test(l)), check.stdout)
  // A TypeScript syntax error and a throw at load time name the file and line.
  writeFileSync(join(dir, 'broken.ts'), "import { defineDissector } from 'netkit'\nconst n: number = \nexport default defineDissector({ name: 'broken', fields: {}, dissect() {} })\n")
  writeFileSync(join(dir, 'throws.mts'), "import { defineDissector } from 'netkit'\n\nexport default defineDissector({ name: 'throws', fields: { x: { name: 'throws.x', type: 'uint48' as 'uint' } }, dissect() {} })\n")
  writeFileSync(join(dir, '.netkitrc.json'), JSON.stringify({ plugins: ['./broken.ts', './throws.mts'] }))
  // Named with --config: run as root (CI), netkit loads nothing found in the working folder.
  const listed = await netkit(['dissectors', '--config', join(dir, '.netkitrc.json')], { cwd: dir })
  assert.equal(listed.code, 1)
  assert.match(listed.stderr, /warning: plugin .*broken\.ts:3:\d+ failed to load: /)
  assert.match(listed.stderr, /warning: plugin .*throws\.mts:3(:\d+)? failed to load: defineDissector\(throws\): field 'x' needs a name and a type/)
  assert.match(listed.stdout, /^tcp {2}Transmission Control Protocol/m, 'the shipped dissectors still load')
  const ok = await netkit(['dissectors', '--check', join(root, 'plugins', 'tcp')], { cwd: dir })
  assert.equal(ok.stdout, `${join(root, 'plugins', 'tcp', 'index.js')}: ok (tcp)\n`)
})
