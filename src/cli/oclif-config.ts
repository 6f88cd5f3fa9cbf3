/**
 * What bin/run.js hands oclif's run(): normally the package's own URL (oclif loads everything);
 * in a privileged run with packages added by `netkit plugins`, a Config without the packages that
 * privilege.ts's rule refuses (another user's folder, or writable by others), each named on one
 * line, so their commands and hooks never run with privileges (their dissectors are skipped the
 * same way: installed-plugins.ts).
 */
import { Config, settings } from '@oclif/core'
import { fileURLToPath } from 'node:url'
import { installedPackages, untrustedPackage } from '../dissect/installed-plugins.js'
import { isPrivileged } from '../privilege/privilege.js'

export async function oclifConfig(packageUrl: string): Promise<string | Config> {
  // A plugin's commands run from its built JavaScript: oclif's TypeScript path lookup (ts-node)
  // does not apply to ESM plugins on Node 20, and for a linked one it only prints a warning.
  settings.enableAutoTranspile = false
  if (installedPackages().length === 0 || !isPrivileged()) return packageUrl
  const config = await Config.load(fileURLToPath(packageUrl))
  const kept = new Map<string, Config['plugins'] extends Map<string, infer P> ? P : never>()
  for (const [name, plugin] of config.plugins) {
    const why = plugin.type === 'user' || plugin.type === 'link' ? untrustedPackage(plugin.root) : undefined
    if (why === undefined) kept.set(name, plugin)
    else process.stderr.write(`netkit: plugin ${name} is not loaded with privileges: ${why}\n`)
  }
  if (kept.size === config.plugins.size) return config
  // Config.load of a Config reloads it with the plugins given (oclif's Config.load, isConfig branch).
  const trusted = new Config({ ...config.options, plugins: kept })
  await trusted.load()
  return trusted
}
