/**
 * The filter expression of a command line: the positional words, in the order typed, joined by
 * spaces as tcpdump joins them. oclif's parse() result `argv` must not be used for this: it sorts
 * the words by the first position of each value, so a repeated word is moved next to its first
 * occurrence (`host a or host b` would come out as `host host a or b`). The raw tokens keep
 * the order.
 */

/** A token of oclif's parse() `raw` output. */
interface RawToken { type: string; input: string }

/** The filter expression from parse()'s `raw` tokens ('' when there is none). */
export function filterExpression(raw: readonly RawToken[]): string {
  return raw.filter((t) => t.type === 'arg').map((t) => t.input).join(' ').trim()
}
