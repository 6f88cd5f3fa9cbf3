/** One line on where the capture addon came from and whether live capture works (`netkit --version`). */
import { CaptureUnavailableError } from '../errors.js'
import { loadAddon } from './addon-loader.js'
import { captureAddonCandidates, loadNative, type NativeModule } from './native.js'

export function addonStatus(): string {
  try {
    loadNative()
  } catch (err) {
    const why = err instanceof CaptureUnavailableError ? err.message : (err as Error).message
    return `capture addon: none; live capture unavailable: ${why}`
  }
  const r = loadAddon<NativeModule>('netkit_capture', captureAddonCandidates())
  const from = r.module ? (r.from === 'prebuild' ? 'prebuilt' : r.from === 'compiled' ? 'compiled on this machine' : 'NETKIT_CAPTURE_ADDON') : 'none'
  return `capture addon: ${from} (${r.module ? r.path : ''}); live capture available`
}
