/**
 * Giving up root after the capture is open (tcpdump's -Z): the process switches to a user's uid,
 * gid and supplementary groups (initgroups(3)); with them the kernel clears its permitted and
 * effective capabilities (capabilities(7), "Effect of user ID changes on capabilities"), which
 * is checked afterwards in /proc/self/status. Files created before the switch are handed to the
 * user, as tcpdump does, so that -W can overwrite them and the user can read them.
 */
import { chownSync, readFileSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { CaptureError, InvalidArgumentError } from '../errors.js'
import { effectiveCapabilities, lookupAccount, type Account } from './privilege.js'

/**
 * The account `-Z USER` names (a name or a numeric uid), or, without -Z, the invoking user of
 * `sudo` when running as root (SUDO_UID; tcpdump's --with-user packaging default); undefined
 * when nothing is to be given up.
 */
export function dropTarget(user: string | undefined): Account | undefined {
  if (user !== undefined) {
    const account = lookupAccount(/^\d+$/.test(user) ? Number(user) : user)
    if (account === undefined) throw new InvalidArgumentError(`-Z: no such user '${user}'`)
    return account
  }
  const sudo = process.env.SUDO_UID
  if (process.geteuid?.() !== 0 || sudo === undefined || !/^\d+$/.test(sudo) || Number(sudo) === 0) return undefined
  return lookupAccount(Number(sudo))
}

/** Whether `account` (with its supplementary groups `groups`) may create files in `dir`. */
function mayCreateIn(dir: string, account: Account, groups: number[]): boolean {
  let st
  try {
    st = statSync(dir)
  } catch {
    return false
  }
  if (st.uid === account.uid) return (st.mode & 0o300) === 0o300
  if (st.gid === account.gid || groups.includes(st.gid)) return (st.mode & 0o030) === 0o030
  return (st.mode & 0o003) === 0o003
}

/** The supplementary groups of a user, from /etc/group. */
function groupsOf(name: string): number[] {
  try {
    const text = readFileSync('/etc/group', 'utf8')
    const out: number[] = []
    for (const line of text.split('\n')) {
      const f = line.split(':')
      if (f.length >= 4 && f[3].split(',').includes(name)) out.push(Number(f[2]))
    }
    return out
  } catch {
    return []
  }
}

/**
 * Switches the process to `account`. `created` are the files opened so far (chowned to it);
 * `rotateInto`, when files will be created later (-G/-C), is the folder they go into, which the
 * account must be able to create files in (checked first, so the run fails before it starts
 * rather than at the first rotation).
 */
export function dropPrivileges(account: Account, created: string[], rotateInto?: string): void {
  if (process.geteuid?.() !== 0) {
    throw new InvalidArgumentError(`-Z ${account.name}: changing user needs root (running as uid ${process.geteuid?.()})`)
  }
  if (rotateInto !== undefined && !mayCreateIn(rotateInto, account, [account.gid, ...groupsOf(account.name)])) {
    throw new InvalidArgumentError(`-Z ${account.name}: ${account.name} cannot create files in ${rotateInto}, which -G/-C needs after root is given up`, {
      hint: `write into a folder ${account.name} may write, or choose another -Z user`,
    })
  }
  try {
    for (const file of created) chownSync(file, account.uid, account.gid)
    // initgroups(3): the user's supplementary groups from NSS, replacing root's.
    ;(process as unknown as { initgroups(user: string, extraGroup: number): void }).initgroups(account.name, account.gid)
    process.setgid!(account.gid)
    process.setuid!(account.uid)
  } catch (err) {
    throw new CaptureError(`-Z ${account.name}: cannot change to user ${account.name}: ${(err as Error).message}`, { cause: err })
  }
  if (effectiveCapabilities() !== 0n) throw new CaptureError(`-Z ${account.name}: capabilities remain after changing user; stopping`)
}

/** The folder files of the -w path `path` are created in. */
export function folderOf(path: string): string {
  return dirname(resolve(path))
}
