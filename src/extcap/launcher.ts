/**
 * The extcap launcher: a small shell script in Wireshark's extcap folder that runs
 * `netkit extcap "$@"` with this node and this netkit. Wireshark runs every program in that folder
 * to ask for interfaces, so the launcher only execs. `tshark -G folders` names the folder: the
 * personal one where the Wireshark version has one ("Personal Extcap path", 4.2 and later),
 * otherwise the global one ("Extcap path"), which only root may write.
 */
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FileAccessError, InvalidArgumentError, fileAccessError } from '../errors.js'

/** The launcher's file name in the extcap folder. */
export const LAUNCHER_NAME = 'netkit'
/** A line every launcher netkit writes holds; uninstall removes only files that hold it. */
const MARK = '# netkit extcap launcher'

/** Wireshark's extcap folder as tshark reports it (personal if the version has one). */
export function extcapFolder(): string {
  const r = spawnSync('tshark', ['-G', 'folders'], { encoding: 'utf8' })
  if (r.error || r.status !== 0) throw new InvalidArgumentError('cannot ask tshark for Wireshark\'s extcap folder (is tshark installed?); give --dir DIR')
  const folders = new Map<string, string>()
  for (const line of r.stdout.split('\n')) {
    const m = /^([^:\t]+):\s*\t?(.+)$/.exec(line.trim())
    if (m) folders.set(m[1].trim().toLowerCase(), m[2].trim())
  }
  const dir = folders.get('personal extcap path') ?? folders.get('extcap path') ?? folders.get('global extcap path')
  if (!dir) throw new InvalidArgumentError('tshark -G folders names no extcap folder; give --dir DIR')
  return dir
}

/** The script: exec this node on this netkit's bin/run.js with `extcap` and Wireshark's arguments. */
export function launcherScript(node: string, runJs: string): string {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`
  return `#!/bin/sh\n${MARK} (netkit extcap uninstall removes it)\nexec ${q(node)} ${q(runJs)} extcap "$@"\n`
}

/** Writes the launcher into `dir`; returns its path. Replaces only a launcher of netkit's own. */
export function installLauncher(dir: string, node: string, runJs: string): string {
  const path = join(dir, LAUNCHER_NAME)
  if (existsSync(path) && !isOurs(path)) throw new FileAccessError(path, 'exists and is not a netkit launcher; not replaced')
  const tmp = `${path}.${process.pid}.tmp`
  try {
    writeFileSync(tmp, launcherScript(node, runJs), { mode: 0o755 })
    chmodSync(tmp, 0o755)
    renameSync(tmp, path)
  } catch (err) {
    rmSync(tmp, { force: true })
    const e = fileAccessError(dir, err, 'write the extcap launcher there')
    if ((err as NodeJS.ErrnoException).code === 'EACCES' || (err as NodeJS.ErrnoException).code === 'EPERM') {
      throw new FileAccessError(dir, 'cannot write the extcap launcher there: permission denied (run as root, or give --dir with a folder Wireshark reads)', { cause: err })
    }
    throw e
  }
  return path
}

/** Removes netkit's launcher from `dir`; returns its path, or undefined when there was none. */
export function uninstallLauncher(dir: string): string | undefined {
  const path = join(dir, LAUNCHER_NAME)
  if (!existsSync(path)) return undefined
  if (!isOurs(path)) throw new FileAccessError(path, 'is not a netkit launcher; left in place')
  try {
    rmSync(path)
  } catch (err) {
    throw fileAccessError(path, err, 'remove it')
  }
  return path
}

function isOurs(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').split('\n', 3).includes(`${MARK} (netkit extcap uninstall removes it)`)
  } catch {
    return false
  }
}
