/**
 * The display-filter lexer: splits an expression into tokens the way Wireshark 4.0's scanner
 * does (wireshark-filter(4)). Values are not interpreted here: a bare word (`tcp.port`, `80`,
 * `10.0.0.0/8`, `47:45:54`, `GET`) stays text until the semantic check knows which field it is
 * compared with; quoted strings and character constants are unescaped here.
 */
import { DisplayFilterError } from '../errors.js'
import { decodeCharConstant, decodeString } from './literals.js'

/** Token kinds: punctuation and operators by their text, plus the value kinds. */
export type TokenType =
  | '(' | ')' | '{' | '}' | ',' | '..' | '#' | '${'
  | '==' | '!=' | '===' | '!==' | '>' | '>=' | '<' | '<=' | '~'
  | '&&' | '||' | '!' | '&' | '+' | '-' | '*' | '/' | '%'
  | 'word' | 'string' | 'char' | 'range' | 'eof'

/** One token: its kind, its text (unescaped bytes for strings), and where it is. */
export interface Token {
  type: TokenType
  /** The word, the range text inside `[...]`, or the source text of a string. */
  text: string
  /** Strings and character constants: the value's bytes. */
  bytes?: Buffer
  /** Strings: written as r"..." (no escapes processed). */
  raw?: boolean
  pos: number
  end: number
}

const PUNCT: readonly TokenType[] = ['===', '!==', '==', '!=', '>=', '<=', '&&', '||', '..', '${', '>', '<', '~', '!', '&', '+', '-', '*', '/', '%', '(', ')', '{', '}', ',', '#']

/** Characters a bare word is made of (a word never contains `..`, see wordEnd). */
const WORD = /[A-Za-z0-9_:.\-]/
const WORD_START = /[A-Za-z0-9_:]/

/** Splits `expr` into tokens; throws DisplayFilterError on a character no token starts with. */
export function tokenize(expr: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < expr.length) {
    const c = expr[i]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue }
    const start = i
    if (c === '"' || ((c === 'r' || c === 'R') && expr[i + 1] === '"')) {
      const raw = c !== '"'
      const { bytes, end } = decodeString(expr, raw ? i + 1 : i, raw)
      out.push({ type: 'string', text: expr.slice(start, end), bytes, raw, pos: start, end })
      i = end
      continue
    }
    if (c === "'") {
      const { value, end } = decodeCharConstant(expr, i)
      out.push({ type: 'char', text: expr.slice(start, end), bytes: Buffer.from([value]), pos: start, end })
      i = end
      continue
    }
    if (c === '[') {
      // Slice and layer ranges are lexed whole: `[0:2]`, `[-1]`, `[1-3,5]` (drange syntax).
      const close = expr.indexOf(']', i)
      if (close < 0) throw new DisplayFilterError('"[" has no matching "]"', i)
      out.push({ type: 'range', text: expr.slice(i + 1, close), pos: start, end: close + 1 })
      i = close + 1
      continue
    }
    // A leading dot forces a field name (`.tcp`); `..` is the set range operator.
    if (WORD_START.test(c) || (c === '.' && expr[i + 1] !== '.' && i + 1 < expr.length && /[A-Za-z0-9_]/.test(expr[i + 1]))) {
      const end = wordEnd(expr, c === '.' ? i + 1 : i)
      out.push({ type: 'word', text: expr.slice(start, end), pos: start, end })
      i = end
      continue
    }
    const p = PUNCT.find((t) => expr.startsWith(t, i))
    if (p === undefined) throw new DisplayFilterError(`"${c}" was unexpected in this context`, i)
    out.push({ type: p, text: p, pos: start, end: start + p.length })
    i += p.length
  }
  out.push({ type: 'eof', text: '', pos: expr.length, end: expr.length })
  return out
}

/**
 * Where the bare word starting at `i` ends. A word stops before `..` (so `1..9` is a range),
 * drops a trailing `.` or `-` (`5.` is the number 5 and a stray dot, as in Wireshark), and
 * takes a CIDR suffix `/N` after an address. Words with `:` must be an IPv6 address or
 * colon-separated byte pairs (`47:45:54`); anything else (`8:0`, `eth:ip`) is refused there.
 */
function wordEnd(expr: string, i: number): number {
  const start = i
  while (i < expr.length && WORD.test(expr[i])) {
    if (expr[i] === '.' && expr[i + 1] === '.') break
    i++
  }
  let text = expr.slice(start, i)
  if (text.includes(':') && !isIPv6Text(text)) {
    // Byte pairs separated by colons: the longest such prefix, then the rest is unexpected.
    const m = /^(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+|[A-Za-z0-9_.\-]+)/.exec(text)
    const len = m ? m[0].length : 0
    if (len < text.length) throw new DisplayFilterError(`"${text.slice(len)}" was unexpected in this context`, start + len)
  }
  while (text.length > 1 && (text.endsWith('.') || text.endsWith('-')) && !isIPv6Text(text)) { i--; text = text.slice(0, -1) }
  if (expr[i] === '/' && /[0-9]/.test(expr[i + 1] ?? '') && /^[0-9.]+$|:/.test(text)) {
    // IPv4 prefixes have at most two digits (`/255.0.0.0` is not a netmask form in 4.0).
    const max = text.includes(':') ? 3 : 2
    let j = i + 1
    while (j < expr.length && j - i - 1 < max && /[0-9]/.test(expr[j])) j++
    i = j
  }
  return i
}

/** Whether `text` is an IPv6 address in text form (RFC 4291 section 2.2). */
export function isIPv6Text(text: string): boolean {
  let s = text
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s)
  if (v4) {
    if (!isIPv4Text(v4[2])) return false
    s = v4[1] + '0:0'
  }
  const halves = s.split('::')
  if (halves.length > 2) return false
  const groups = (h: string): string[] | undefined => {
    if (h === '') return []
    const g = h.split(':')
    return g.every((x) => /^[0-9A-Fa-f]{1,4}$/.test(x)) ? g : undefined
  }
  const a = groups(halves[0])
  const b = halves.length === 2 ? groups(halves[1]) : []
  if (a === undefined || b === undefined) return false
  return halves.length === 2 ? a.length + b.length <= 7 : a.length === 8
}

/** Whether `text` is a dotted-quad IPv4 address. */
export function isIPv4Text(text: string): boolean {
  const p = text.split('.')
  return p.length === 4 && p.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255)
}
