/**
 * Runs a capture file through a TcpTracker, batch by batch, releasing finished conversations as
 * it goes so memory follows the live flows.
 */
import { openCaptureFile } from '../pcap/file-reader.js'
import type { TcpTracker } from './tcp-tracker.js'

/** Feeds every record of `path` to `tracker`, then finishes it. */
export async function trackFile(path: string, tracker: TcpTracker, onWarning?: (w: string) => void): Promise<void> {
  const reader = await openCaptureFile(path, { onWarning })
  let batches = 0
  try {
    for await (const batch of reader.batches()) {
      tracker.add(batch)
      if (++batches % 16 === 0) tracker.release()
    }
  } finally {
    // Damage ends the file early, but what was read still counts: close every stream first.
    tracker.finish()
    await reader.close()
  }
}
