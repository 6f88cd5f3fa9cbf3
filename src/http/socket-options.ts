/**
 * The socket addon (native/src/socket-options.cc): socket options Node does not offer, for
 * sockets of this process. Optional: where it is not built (not Linux, no toolchain) callers do
 * without, so nothing here throws.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

interface SocketAddon {
  setRcvLowat(fd: number, bytes: number): number
}

/** setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, bytes) returning 0 or the errno, or null where the addon is not built. */
export function rcvLowatSetter(): ((fd: number, bytes: number) => number) | null {
  if (process.platform !== 'linux') return null
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..') // from src/http or dist/http
  const require = createRequire(import.meta.url)
  for (const build of ['Release', 'Debug']) {
    const path = join(root, 'native', 'build', build, 'netkit_socket.node')
    if (!existsSync(path)) continue
    try {
      return (require(path) as SocketAddon).setRcvLowat
    } catch {
      return null
    }
  }
  return null
}
