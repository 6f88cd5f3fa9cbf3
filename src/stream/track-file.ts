/**
 * Runs a capture file through a TcpTracker, batch by batch, releasing finished conversations as
 * it goes so memory follows the live flows.
 */
import { openCaptureFile } from '../pcap/file-reader.js'
import type { PacketSelector } from '../dissect/packet-selector.js'
import type { TcpTracker } from './tcp-tracker.js'

/**
 * Feeds every record of `path` to `tracker` (with a selector, only the records it selects: a
 * display filter), then finishes it.
 */
export async function trackFile(path: string, tracker: TcpTracker, onWarning?: (w: string) => void, selector?: PacketSelector): Promise<void> {
  const reader = await openCaptureFile(path, { onWarning })
  let batches = 0
  try {
    for await (const batch of reader.batches()) {
      if (selector) selector.apply(batch)
      tracker.add(batch, selector?.select)
      if (++batches % 16 === 0) tracker.release()
    }
  } finally {
    // Damage ends the file early, but what was read still counts: close every stream first.
    tracker.finish()
    await reader.close()
  }
}
