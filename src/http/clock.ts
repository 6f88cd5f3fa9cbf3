/**
 * The transport's clock, in performance.now() milliseconds. While the responses of one socket
 * read are handled, the time is read once and held: they all arrived with that read, and the
 * requests their workers send next start then. Outside a read every call reads the clock.
 */
import { performance } from 'node:perf_hooks'

let held = -1

/** The current time, or the held time of the read being handled. */
export function now(): number {
  return held >= 0 ? held : performance.now()
}

/** Reads the clock once and holds it until `release()`. */
export function hold(): void {
  held = performance.now()
}

export function release(): void {
  held = -1
}
