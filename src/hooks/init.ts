/**
 * oclif's init hook: `netkit --version` adds, to oclif's "netkit/0.1.0 linux-x64
 * node-v20" line, where the capture addon came from (a prebuild shipped in the package, or
 * compiled on this machine) and whether live capture is available (capture/addon-loader.ts).
 */
import type { Hook } from '@oclif/core'

const hook: Hook<'init'> = async function (opts) {
  if (opts.id !== '--version') return
  const { addonStatus } = await import('../capture/addon-status.js')
  // userAgent is read-only in oclif's types only: main.run prints it for --version after this hook.
  ;(this.config as { userAgent: string }).userAgent = `${this.config.userAgent}\n${addonStatus()}`
}

export default hook
