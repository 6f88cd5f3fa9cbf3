/**
 * The socket addon (native/src/socket-options.cc): socket options Node does not offer, for
 * sockets of this process. Optional: where it is not built (not Linux, no toolchain) callers do
 * without, so nothing here throws.
 */
import { loadAddon } from '../capture/addon-loader.js'

interface SocketAddon {
  setRcvLowat(fd: number, bytes: number): number
}

/** setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, bytes) returning 0 or the errno, or null where the addon is not built. */
export function rcvLowatSetter(): ((fd: number, bytes: number) => number) | null {
  if (process.platform !== 'linux') return null
  return loadAddon<SocketAddon>('netkit_socket').module?.setRcvLowat ?? null
}
