/**
 * Dissectors of packages installed with `netkit plugins install|link` (@oclif/plugin-plugins).
 * That manager records them in its data folder's package.json (`oclif.plugins`: `{name, type:
 * 'user'}` installed into its node_modules, `{name, type: 'link', root}` linked in place), the
 * same file oclif reads for their commands. A package declares its dissectors in its own
 * package.json: `"netkit": { "dissectors": ["./dist/x.js"] }`, paths relative to the package.
 * Run with privileges, a package is skipped (with one line) unless its folder, its package.json
 * and each dissector file pass privilege.ts untrustedReason, the rule config plugins follow.
 */
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { isPrivileged, untrustedReason } from '../privilege/privilege.js'

/** oclif's data folder for netkit: NETKIT_DATA_DIR, else $XDG_DATA_HOME/netkit or ~/.local/share/netkit (oclif Config.dir('data')). */
export function pluginDataDir(): string {
  if (process.env.NETKIT_DATA_DIR) return process.env.NETKIT_DATA_DIR
  return join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'netkit')
}

/** One installed or linked package. */
export interface InstalledPackage {
  name: string
  type: 'user' | 'link'
  root: string
}

/** The packages the plugin manager recorded in `dataDir`; none when it recorded nothing (or unreadably). */
export function installedPackages(dataDir = pluginDataDir()): InstalledPackage[] {
  const file = join(dataDir, 'package.json')
  if (!existsSync(file)) return []
  let pjson: { oclif?: { plugins?: Array<{ name?: unknown; type?: unknown; root?: unknown }> } }
  try {
    pjson = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return [] // oclif itself warns about this file when it loads the plugins' commands
  }
  const out: InstalledPackage[] = []
  for (const p of pjson.oclif?.plugins ?? []) {
    if (typeof p?.name !== 'string') continue
    if (p.type === 'user') out.push({ name: p.name, type: 'user', root: join(dataDir, 'node_modules', p.name) })
    else if (p.type === 'link' && typeof p.root === 'string') out.push({ name: p.name, type: 'link', root: p.root })
  }
  return out
}

/** Why a privileged netkit must not load package `root` (its folder or package.json), or undefined. */
export function untrustedPackage(root: string): string | undefined {
  for (const path of [root, join(root, 'package.json')]) {
    const why = untrustedReason(path)
    if (why !== undefined) return `${path}: ${why}`
  }
  return undefined
}

/** A dissector module a package declares. */
export interface PackageDissector {
  /** The package's name, shown as the dissector's source. */
  packageName: string
  file: string
}

/**
 * The dissector files the installed packages declare, and one message per package or file that
 * is skipped (not found, a bad declaration, or refused to a privileged run).
 */
export function installedDissectors(packages = installedPackages(), privileged = isPrivileged()): { dissectors: PackageDissector[]; skipped: string[] } {
  const dissectors: PackageDissector[] = []
  const skipped: string[] = []
  for (const pkg of packages) {
    if (privileged) {
      const why = untrustedPackage(pkg.root)
      if (why !== undefined) { skipped.push(`plugin package ${pkg.name}: not loaded with privileges: ${why}`); continue }
    }
    let declared: unknown
    try {
      declared = (JSON.parse(readFileSync(join(pkg.root, 'package.json'), 'utf8')) as { netkit?: { dissectors?: unknown } }).netkit?.dissectors
    } catch (err) {
      skipped.push(`plugin package ${pkg.name}: cannot read ${join(pkg.root, 'package.json')}: ${(err as Error).message.split('\n')[0]}`)
      continue
    }
    if (declared === undefined) continue // a package of commands only
    if (!Array.isArray(declared) || !declared.every((d) => typeof d === 'string')) {
      skipped.push(`plugin package ${pkg.name}: "netkit": {"dissectors"} must be a list of module paths, e.g. ["./dist/x.js"]`)
      continue
    }
    for (const rel of declared as string[]) {
      const file = resolve(pkg.root, rel)
      const why = privileged ? untrustedReason(file) : undefined
      if (why !== undefined) skipped.push(`plugin package ${pkg.name}: not loading ${file} with privileges: ${why}`)
      else dissectors.push({ packageName: pkg.name, file })
    }
  }
  return { dissectors, skipped }
}
