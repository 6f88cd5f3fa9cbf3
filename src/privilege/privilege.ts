/**
 * Who netkit runs as, for the rules of running with privileges: as root, or with CAP_NET_RAW or
 * CAP_NET_ADMIN, netkit loads no configuration found by searching the working folder, and a
 * configuration or plugin it does load must belong to root or to the invoking user and must not
 * be group- or world-writable (Wireshark refuses Lua plugins to a superuser for the same reason).
 * Under sudo the invoking user is SUDO_UID's (sudo(8) sets SUDO_UID, SUDO_GID, SUDO_USER).
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Capability numbers (linux/capability.h). */
const CAP_NET_ADMIN = 12
const CAP_NET_RAW = 13

/** The effective capability set of this process, from /proc/self/status (CapEff), or 0n. */
export function effectiveCapabilities(): bigint {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'))
    return m ? BigInt(`0x${m[1]}`) : 0n
  } catch {
    return 0n
  }
}

/** True when running as root or with CAP_NET_RAW or CAP_NET_ADMIN in the effective set. */
export function isPrivileged(): boolean {
  if (typeof process.geteuid === 'function' && process.geteuid() === 0) return true
  const caps = effectiveCapabilities()
  return (caps & ((1n << BigInt(CAP_NET_RAW)) | (1n << BigInt(CAP_NET_ADMIN)))) !== 0n
}

/** A user account, from /etc/passwd. */
export interface Account {
  name: string
  uid: number
  gid: number
  home: string
}

/** Looks a user up by name or numeric id in /etc/passwd; undefined when there is none. */
export function lookupAccount(user: string | number): Account | undefined {
  let text: string
  try {
    text = readFileSync('/etc/passwd', 'utf8')
  } catch {
    return undefined
  }
  for (const line of text.split('\n')) {
    const f = line.split(':')
    if (f.length < 7) continue
    const uid = Number(f[2])
    if (typeof user === 'number' ? uid === user : f[0] === user) return { name: f[0], uid, gid: Number(f[3]), home: f[5] }
  }
  return undefined
}

/** The uid of the user who invoked netkit: SUDO_UID under sudo, else the real uid. */
export function invokingUid(): number {
  const sudo = process.env.SUDO_UID
  if (sudo !== undefined && /^\d+$/.test(sudo) && process.getuid?.() === 0) return Number(sudo)
  return process.getuid?.() ?? -1
}

/**
 * The invoking user's configuration folder (XDG Base Directory): $XDG_CONFIG_HOME/netkit, or
 * ~/.config/netkit. Under sudo the environment is root's, so the folder is the invoking user's
 * home's .config/netkit.
 */
export function userConfigDir(): string | undefined {
  const uid = invokingUid()
  const underSudo = process.env.SUDO_UID !== undefined && uid !== process.getuid?.()
  if (!underSudo && process.env.XDG_CONFIG_HOME) return join(process.env.XDG_CONFIG_HOME, 'netkit')
  const home = underSudo ? lookupAccount(uid)?.home : process.env.HOME ?? lookupAccount(uid)?.home
  return home ? join(home, '.config', 'netkit') : undefined
}

/**
 * Why a file may not be loaded by a privileged netkit, or undefined when it may: it must belong
 * to root or to the invoking user and be writable by its owner only.
 */
export function untrustedReason(path: string): string | undefined {
  let st
  try {
    st = statSync(path)
  } catch {
    return undefined // a missing file is reported by whoever opens it
  }
  const uid = invokingUid()
  if (st.uid !== 0 && st.uid !== uid) return `it belongs to uid ${st.uid}, not to root or the invoking user (uid ${uid})`
  if ((st.mode & 0o002) !== 0) return 'it is world-writable'
  if ((st.mode & 0o020) !== 0) return 'it is group-writable'
  return undefined
}
