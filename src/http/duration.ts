/**
 * Parses the duration argument of `netkit http -d`: `500ms`, `5s`, `2m`, `1h`, or a bare number
 * of seconds (as wrk's -d).
 */
import { InvalidArgumentError } from '../errors.js'

/** A duration string in milliseconds; throws InvalidArgumentError when it is not one. */
export function parseDuration(text: string, flag = '--duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text)
  if (!m) throw new InvalidArgumentError(`invalid ${flag} '${text}' (expected e.g. 500ms, 5s, 2m)`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
  const ms = Number(m[1]) * unit
  if (ms <= 0) throw new InvalidArgumentError(`invalid ${flag} '${text}' (must be more than 0)`)
  return ms
}
