/**
 * oclif's postrun hook, after `netkit autocomplete` (or plugin-plugins' refresh, which runs
 * `autocomplete:create`) has written plugin-autocomplete's scripts: completes the values
 * plugin-autocomplete cannot know.
 * - `-i/--interface`: the interfaces the kernel lists when TAB is pressed (/sys/class/net, as
 *   `netkit interfaces` reads them) and `any`; never a cached list, since veths and tunnels come and go.
 * - `-e/--field` and `-Y/--display-filter`: the field and protocol names of the dissectors loaded
 *   when the cache is built (so a plugin's fields are offered once `netkit autocomplete
 *   --refresh-cache` or `netkit plugins install` has run). In a filter, the name under the cursor
 *   is completed: `-Y 'tcp.port == 80 && http.re<TAB>`.
 * - the value of any other flag that takes one, and arguments after the command: file names
 *   (bash's default), where plugin-autocomplete's function would offer command names.
 * bash gets a wrapper function registered in place of plugin-autocomplete's; zsh gets its
 * `_files` actions for those flags replaced (zsh's own `_net_interfaces` lists interfaces).
 */
import type { Hook } from '@oclif/core'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const CREATE_IDS = new Set(['autocomplete', 'autocomplete:create'])

const hook: Hook<'postrun'> = async function (opts) {
  if (!CREATE_IDS.has(opts.Command?.id ?? '')) return
  const dir = join(opts.config.cacheDir, 'autocomplete')
  const fieldsFile = join(dir, 'fields')
  try {
    await writeFile(fieldsFile, (await fieldNames()).join('\n') + '\n')
  } catch (err) {
    // Completion still works without field names; say why they are missing.
    process.stderr.write(`netkit autocomplete: warning: field names not cached (${(err as Error).message})\n`)
  }
  const bin = opts.config.bin
  await patch(join(dir, 'functions', 'bash', `${bin}.bash`), (s) => s + bashValues(bin, fieldsFile, valueFlags(opts.config)))
  await patch(join(dir, 'functions', 'zsh', `_${bin}`), (s) => zshValues(s, bin, fieldsFile))
}

export default hook

/** Every field and protocol name a `-e` or `-Y` accepts, as `netkit dissectors` lists them. */
async function fieldNames(): Promise<string[]> {
  const { loadConfig } = await import('../config.js')
  const { loadDissectors } = await import('../dissect/plugin-loader.js')
  const { registry } = await loadDissectors(await loadConfig(undefined), { installed: true })
  const names = new Set<string>(registry.fields.map((f) => f.name))
  for (const d of registry.dissectors) names.add(d.def.name)
  return [...names].sort()
}

/** The long and short names of the flags that take a value, over every command. */
function valueFlags(config: { commands: Array<{ flags: Record<string, { type: string; char?: string }> }> }): string[] {
  const out = new Set<string>()
  for (const c of config.commands) {
    for (const [name, f] of Object.entries(c.flags ?? {})) {
      if (f.type !== 'option') continue
      out.add(`--${name}`)
      if (f.char) out.add(`-${f.char}`)
    }
  }
  return [...out].sort()
}

async function patch(file: string, edit: (s: string) => string): Promise<void> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return // plugin-autocomplete wrote no script for this shell
  }
  if (text.includes('# netkit values')) return
  await writeFile(file, edit(text))
}

/** Single-quoted for the shell. */
const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`

/** Field names are letters, digits, '_', '-' and '.' (Wireshark's rule for abbreviations). */
const FIELD_CHARS = 'a-zA-Z0-9_.-'

function bashValues(bin: string, fieldsFile: string, flags: string[]): string {
  const fn = `_${bin}_autocomplete`
  return `
# netkit values: interface names for -i, field names for -e and -Y, file names for other values
_${bin}_values()
{
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" IFS=$' \\t\\n'
  # --flag=value: bash splits at '=' (COMP_WORDBREAKS)
  if [[ "$prev" == "=" && $COMP_CWORD -ge 2 ]]; then prev="\${COMP_WORDS[COMP_CWORD-2]}"; fi
  if [[ "$cur" == "=" ]]; then cur=""; fi
  COMPREPLY=()
  case "$prev" in
    -i|--interface)
      COMPREPLY=( $(compgen -W "any $(command ls /sys/class/net 2>/dev/null)" -- "$cur") )
      return 0 ;;
    -e|--field|-Y|--display-filter)
      local tok="\${cur##*[^${FIELD_CHARS}]}"
      local head="\${cur:0:\${#cur}-\${#tok}}"
      local fields=""
      [[ -r ${q(fieldsFile)} ]] && fields="$(< ${q(fieldsFile)})"
      COMPREPLY=( $(compgen -P "$head" -W "$fields" -- "$tok") )
      return 0 ;;
    ${flags.join('|')})
      return 0 ;;
  esac
  if [[ "$cur" != "-"* && $COMP_CWORD -ge 2 && "\${COMP_WORDS[COMP_CWORD-1]}" == "-"* ]]; then return 0; fi
  ${fn} "$@"
}

complete -o default -F _${bin}_values ${bin}
`
}

function zshValues(text: string, bin: string, fieldsFile: string): string {
  const helpers = `# netkit values: interface names for -i, field names for -e and -Y
_${bin}_fields() {
  local -a names
  [[ -r ${q(fieldsFile)} ]] && names=(\${(f)"$(< ${q(fieldsFile)})"})
  compset -P '*[^${FIELD_CHARS}]'
  compadd -a names
}
`
  const out = text
    .replace(/(\{-i,--interface\}"\[[^\n]*?\]):file:_files/g, '$1:interface:_net_interfaces')
    .replace(/(\{-e,--field\}"\[[^\n]*?\]):file:_files/g, `$1:field:_${bin}_fields`)
    .replace(/(\{-Y,--display-filter\}"\[[^\n]*?\]):file:_files/g, `$1:filter:_${bin}_fields`)
  // The file's last line calls the function it defines (zsh autoload); the helpers go first.
  return out.replace(/^(#compdef[^\n]*\n)?/, (m) => m + helpers)
}
