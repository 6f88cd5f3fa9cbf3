import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Args, Flags } from '@oclif/core'
import { NetkitCommand } from '../../cli/base-command.js'
import { scaffoldFiles, validScaffoldName, type ScaffoldTransport } from '../../dissect/scaffold.js'
import { InvalidArgumentError } from '../../errors.js'

/** netkit's own package folder (dist/commands/dissectors/../../..). */
const netkitRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/** `netkit dissectors new`: writes a working dissector plugin package to start from. */
export default class DissectorsNew extends NetkitCommand {
  static override summary = 'Write a new dissector plugin package (dissector, test, README) to start from'
  static override examples = [
    '<%= config.bin %> dissectors new nkp --udp 9999',
    '<%= config.bin %> dissectors new myproto --tcp 7000 --dir ./myproto --js',
    '<%= config.bin %> dissectors new probe --heuristic udp.port',
  ]
  static override args = {
    name: Args.string({ description: 'protocol name (lower case: the prefix of its field names)', required: true }),
  }
  static override flags = {
    udp: Flags.integer({ description: 'reached over UDP on this port (a preference users can change)', min: 1, max: 65535, exactlyOne: ['udp', 'tcp', 'heuristic'], helpValue: 'PORT' }),
    tcp: Flags.integer({ description: 'reached over TCP on this port, as whole messages', min: 1, max: 65535, helpValue: 'PORT' }),
    heuristic: Flags.string({ description: 'claims payloads of this table by looking at them (e.g. udp.port)', helpValue: 'TABLE' }),
    dir: Flags.string({ description: 'folder to write (default ./netkit-dissector-NAME); must be new or empty', helpValue: 'DIR' }),
    js: Flags.boolean({ description: 'JavaScript instead of TypeScript' }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DissectorsNew)
    if (!validScaffoldName(args.name)) throw new InvalidArgumentError(`'${args.name}' cannot name a dissector: use lower-case letters, digits and _ (e.g. nkp)`)
    const where: ScaffoldTransport = flags.udp !== undefined ? { udp: flags.udp } : flags.tcp !== undefined ? { tcp: flags.tcp } : { heuristic: flags.heuristic! }
    const dir = resolve(flags.dir ?? `netkit-dissector-${args.name.replace(/_/g, '-')}`)
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new InvalidArgumentError(`${dir} is not empty: give a new folder with --dir`)
    mkdirSync(dir, { recursive: true })
    for (const [file, text] of Object.entries(scaffoldFiles({ name: args.name, where, js: flags.js }))) writeFileSync(join(dir, file), text)
    // netkit is a peer dependency: link this netkit in (as `npm link netkit` would) unless the
    // folder already finds one, so the test runs as written.
    let linked = false
    try {
      createRequire(join(dir, 'package.json')).resolve('netkit/package.json')
    } catch {
      mkdirSync(join(dir, 'node_modules'), { recursive: true })
      symlinkSync(netkitRoot, join(dir, 'node_modules', 'netkit'), 'dir')
      linked = true
    }
    process.stdout.write(`wrote ${dir}: package.json, ${flags.js ? 'index.js' : 'index.ts'}, index.test.js, README.md${linked ? ` (node_modules/netkit links to ${netkitRoot})` : ''}\n` +
      `test it:  cd ${dir} && npm test\n` +
      `use it:   add to a netkit configuration (e.g. .netkitrc.json): { "plugins": [${JSON.stringify(dir)}] }\n`)
  }
}
