/**
 * `matches` patterns: Wireshark 4.0 compiles them with PCRE2, case-insensitive unless the pattern
 * says `(?-i)`; netkit uses a JS RegExp over the value's bytes read as latin1 (the pattern's
 * UTF-8 bytes likewise), so both match byte for byte. Where JS RegExp differs from PCRE2:
 * `\A`, `\z`, `\Z` and `(?P<name>` are rewritten to JS equivalents; a leading `(?i)`/`(?-i)`
 * sets the flag (inline flags elsewhere, possessive quantifiers, atomic groups, `\Q...\E` and
 * recursion are refused as compile errors); `$` matches only at the very end (PCRE2 also before
 * a final newline); case folding is ASCII-only in both.
 */
import { DisplayFilterError } from '../errors.js'

/** Compiles the (unescaped) pattern bytes of a `matches` string. */
export function compileRegex(bytes: Buffer, pos: number): RegExp {
  let src = bytes.toString('latin1')
  let flags = 'i'
  for (;;) {
    if (src.startsWith('(?i)')) { src = src.slice(4); flags = 'i'; continue }
    if (src.startsWith('(?-i)')) { src = src.slice(5); flags = ''; continue }
    break
  }
  src = src.replace(/\\\\|\\A|\\z|\\Z|\(\?P</g, (m) => {
    switch (m) {
      case '\\A': return '^'
      case '\\z': return '$(?![\\s\\S])'
      case '\\Z': return '(?=\\n?$(?![\\s\\S]))'
      case '(?P<': return '(?<'
      default: return m
    }
  })
  try {
    return new RegExp(src, flags)
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err)
    throw new DisplayFilterError(`regex compilation error: ${why}`, pos, { cause: err })
  }
}
