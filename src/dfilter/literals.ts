/**
 * Display-filter literals: quoted strings and character constants (unescaped as Wireshark 4.0's
 * scanner does), and bare words converted to a field's type (integers, floats, booleans, byte
 * strings, Ethernet, IPv4 and IPv6 addresses with CIDR prefixes). See wireshark-filter(4),
 * "Literals". Every failure is a DisplayFilterError at the literal's offset.
 */
import { DisplayFilterError } from '../errors.js'
import { isIPv4Text, isIPv6Text } from './lexer.js'
import { isByteSequence, isNumeric, TYPE_NAMES, ValueList, type ValueType } from './values.js'

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34, "'": 39 }

/**
 * Decodes the string literal whose opening quote is at `q`: its bytes (UTF-8 for the text,
 * escapes as bytes) and the offset after the closing quote. Escapes: \a \b \f \n \r \t \v \\
 * \" \', \x with 1-2 hex digits, \ooo octal (1-3 digits), \uXXXX and \UXXXXXXXX for code points
 * from U+00A0 on. Raw strings (r"...") keep backslashes; `\"` does not end them.
 */
export function decodeString(expr: string, q: number, raw: boolean): { bytes: Buffer; end: number } {
  const out: number[] = []
  let i = q + 1
  let run = ''
  const flush = (): void => { if (run) { for (const b of Buffer.from(run, 'utf8')) out.push(b); run = '' } }
  for (;;) {
    if (i >= expr.length) throw new DisplayFilterError('the final quote was missing from a quoted string', q)
    const c = expr[i]
    if (c === '"') break
    if (c !== '\\') { run += c; i++; continue }
    if (raw) { run += c + (expr[i + 1] ?? ''); i += 2; continue }
    flush()
    const at = i
    const e = expr[i + 1] ?? ''
    if (Object.hasOwn(SIMPLE_ESCAPES, e)) { out.push(SIMPLE_ESCAPES[e]); i += 2; continue }
    let m: RegExpExecArray | null
    if ((m = /^x([0-9A-Fa-f]{1,2})/.exec(expr.slice(i + 1)))) { out.push(parseInt(m[1], 16)); i += 1 + m[0].length; continue }
    if ((m = /^[0-7]{1,3}/.exec(expr.slice(i + 1)))) {
      const v = parseInt(m[0], 8)
      if (v > 255) throw new DisplayFilterError(`\\${m[0]} is not a valid character escape sequence`, at)
      out.push(v); i += 1 + m[0].length; continue
    }
    if ((m = /^(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))/.exec(expr.slice(i + 1)))) {
      const cp = parseInt(m[1] ?? m[2], 16)
      if (cp < 0xa0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new DisplayFilterError(`\\${m[0]} is not a valid universal character name`, at)
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b)
      i += 1 + m[0].length
      continue
    }
    throw new DisplayFilterError(`\\${e.slice(0, 1) || ''} is not a valid character escape sequence`, at)
  }
  flush()
  return { bytes: Buffer.from(out), end: i + 1 }
}

/**
 * Decodes the character constant whose quote is at `q` ('a', '\x41', '\101', '\''): one byte.
 * Wireshark 4.0 takes \a \b \f \t \v \\ \' \" and hex/octal escapes here, not \n or \r.
 */
export function decodeCharConstant(expr: string, q: number): { value: number; end: number } {
  const close = expr.indexOf("'", expr[q + 1] === '\\' && expr[q + 2] === "'" ? q + 3 : q + 1)
  if (close < 0) throw new DisplayFilterError('the final quote was missing from a character constant', q)
  const body = expr.slice(q + 1, close)
  const end = close + 1
  if (body === '') throw new DisplayFilterError('empty character constant', q)
  if (body.length === 1 && body !== '\\') return { value: body.charCodeAt(0) & 0xff, end }
  const esc: Record<string, number> = { '\\a': 7, '\\b': 8, '\\f': 12, '\\t': 9, '\\v': 11, '\\\\': 92, "\\'": 39, '\\"': 34 }
  if (Object.hasOwn(esc, body)) return { value: esc[body], end }
  let m: RegExpExecArray | null
  if ((m = /^\\x([0-9A-Fa-f]{1,2})$/.exec(body))) return { value: parseInt(m[1], 16), end }
  if ((m = /^\\([0-7]{1,3})$/.exec(body)) && parseInt(m[1], 8) <= 255) return { value: parseInt(m[1], 8), end }
  throw new DisplayFilterError(`'${body}' is too long to be a valid character constant`, q)
}

/**
 * An integer as strtoul/strtoll with base 0 read it: decimal, 0x hex, 0 octal, 0b binary.
 * Undefined when the word is not one (`74.0`, `8e1`, `0x`, `08` are not).
 */
export function parseInteger(text: string): number | undefined {
  if (/^[1-9][0-9]*$/.test(text)) return Number(text)
  if (/^0[xX][0-9A-Fa-f]+$/.test(text)) return parseInt(text.slice(2), 16)
  if (/^0[bB][01]+$/.test(text)) return parseInt(text.slice(2), 2)
  if (/^0[0-7]*$/.test(text)) return text.length === 1 ? 0 : parseInt(text.slice(1), 8)
  return undefined
}

/** A decimal floating-point number (`1.5`, `1e9`, `2`); hex is refused as for time values. */
export function parseFloatWord(text: string): number | undefined {
  return /^[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$/.test(text) ? Number(text) : undefined
}

/**
 * Bytes as Wireshark's hex_str_to_bytes reads them: groups of 1, 2 or 4 hex digits separated by
 * `:`, `.` or `-`, or an unseparated run of digit pairs (`0800`, `450` is 45:00). A word that is
 * not such a string but a number from 0 to 0xff (`0x45`) is that one byte.
 */
export function parseByteString(text: string): Buffer | undefined {
  const out: number[] = []
  let i = 0
  const hex = (c: string | undefined): boolean => c !== undefined && /[0-9A-Fa-f]/.test(c)
  const sep = (c: string | undefined): boolean => c === ':' || c === '.' || c === '-'
  while (i < text.length) {
    if (hex(text[i]) && hex(text[i + 1]) && hex(text[i + 2]) && hex(text[i + 3])) {
      out.push(parseInt(text.slice(i, i + 2), 16), parseInt(text.slice(i + 2, i + 4), 16))
      i += 4
    } else if (hex(text[i]) && hex(text[i + 1])) {
      out.push(parseInt(text.slice(i, i + 2), 16))
      i += 2
    } else if (hex(text[i]) && (i + 1 === text.length || sep(text[i + 1]))) {
      out.push(parseInt(text[i], 16))
      i += 1
    } else {
      out.length = 0
      break
    }
    if (i < text.length) {
      if (sep(text[i]) && i + 1 < text.length) i++
      else if (!hex(text[i])) { out.length = 0; break }
    }
  }
  if (out.length > 0) return Buffer.from(out)
  const n = parseInteger(text)
  return n !== undefined && n <= 0xff ? Buffer.from([n]) : undefined
}

/** An Ethernet address: six bytes in any byte-string form (`00:11:22:33:44:55`, `0011.2233.4455`). */
export function parseEther(text: string, pos: number): Buffer {
  const b = parseByteString(text)
  if (b === undefined || b.length !== 6) {
    const why = b === undefined ? 'is not a valid Ethernet address' : b.length < 6 ? 'contains too few bytes to be a valid Ethernet address' : 'contains too many bytes to be a valid Ethernet address'
    throw new DisplayFilterError(`"${text}" ${why}`, pos)
  }
  return b
}

/** An address with its prefix length (bits compared): `10.0.0.0/8`, `fe80::/10`. */
export interface AddressLiteral {
  bytes: Buffer
  prefix: number
}

/** An IPv4 address with an optional /0-32 prefix. Host names are refused (netkit runs -n). */
export function parseIPv4(text: string, pos: number): AddressLiteral {
  const [addr, bits, extra] = text.split('/')
  if (extra !== undefined || !isIPv4Text(addr)) throw new DisplayFilterError(`"${addr}" is not a valid IPv4 address`, pos)
  const prefix = bits === undefined ? 32 : Number(bits)
  if (bits !== undefined && (!/^\d+$/.test(bits) || prefix > 32)) throw new DisplayFilterError(`netmask bits in a CIDR IPv4 address should be <= 32, not ${bits}`, pos)
  return { bytes: Buffer.from(addr.split('.').map(Number)), prefix }
}

/** An IPv6 address with an optional /0-128 prefix. */
export function parseIPv6(text: string, pos: number): AddressLiteral {
  const [addr, bits, extra] = text.split('/')
  if (extra !== undefined || !isIPv6Text(addr)) throw new DisplayFilterError(`"${addr}" is not a valid IPv6 address`, pos)
  const prefix = bits === undefined ? 128 : Number(bits)
  if (bits !== undefined && (!/^\d+$/.test(bits) || prefix > 128)) throw new DisplayFilterError(`prefix in an IPv6 address should be <= 128, not ${bits}`, pos)
  return { bytes: ipv6Bytes(addr), prefix }
}

/** The 16 bytes of a valid IPv6 text address. */
function ipv6Bytes(text: string): Buffer {
  let s = text
  const tail: number[] = []
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s)
  if (v4) {
    s = v4[1].endsWith('::') ? v4[1] : v4[1].slice(0, -1)
    tail.push(...v4[2].split('.').map(Number))
  }
  const [a, b] = s.split('::')
  const words = (h: string | undefined): number[] => (h ? h.split(':').filter((x) => x !== '').map((x) => parseInt(x, 16)) : [])
  const head = words(a)
  const rest = words(b)
  const zeros = 8 - tail.length / 2 - head.length - rest.length
  const all = [...head, ...(s.includes('::') ? new Array<number>(zeros).fill(0) : []), ...rest]
  const out = Buffer.alloc(16)
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2))
  tail.forEach((x, i) => { out[12 + i] = x })
  return out
}

/** Converts a bare word to a literal of `type` (negated when written `-word`). */
export function literalOf(text: string, type: ValueType, pos: number, negative: boolean): ValueList {
  const list = new ValueList()
  const notNumber = (): never => { throw new DisplayFilterError(`"${text}" is not a valid number`, pos) }
  if (negative && !isNumeric(type)) throw new DisplayFilterError(`${TYPE_NAMES[type]} cannot be negated`, pos)
  switch (type) {
    case 'uint': case 'int': {
      const n = parseInteger(text) ?? notNumber()
      // A negative literal for an unsigned field has no value there: 4.0 accepts it and every
      // comparison with it is false (`tcp.srcport > -1` and `tcp.srcport < -1` both are).
      if (negative && n !== 0 && type === 'uint') break
      list.pushNum(negative ? -n : n)
      break
    }
    case 'double': {
      const n = parseFloatWord(text) ?? notNumber()
      list.pushNum(negative ? -n : n)
      break
    }
    case 'bool': {
      // 4.0 takes True/TRUE/False/FALSE and numbers (any non-zero is true), not `true`.
      const n = /^(True|TRUE)$/.test(text) ? 1 : /^(False|FALSE)$/.test(text) ? 0 : parseInteger(text)
      if (n === undefined) throw new DisplayFilterError(`"${text}" cannot be found among the possible values for a Boolean field`, pos)
      list.pushNum(n !== 0 ? 1 : 0)
      break
    }
    case 'string': {
      const b = Buffer.from(text, 'utf8')
      list.pushBytes(b, 0, b.length)
      break
    }
    case 'bytes': case 'none': {
      const b = parseByteString(text)
      if (b === undefined) throw new DisplayFilterError(`"${text}" is not a valid byte string`, pos)
      list.pushBytes(b, 0, b.length)
      break
    }
    case 'ether': {
      const b = parseEther(text, pos)
      list.pushBytes(b, 0, 6)
      break
    }
    case 'ipv4': case 'ipv6': {
      const a = type === 'ipv4' ? parseIPv4(text, pos) : parseIPv6(text, pos)
      list.pushBytes(a.bytes, 0, a.bytes.length, a.prefix)
      break
    }
  }
  return list
}

/** A quoted string as a literal of `type`: the bytes of string, byte and protocol values. */
export function stringLiteral(bytes: Buffer, text: string, type: ValueType, pos: number): ValueList {
  if (!isByteSequence(type) || type === 'ether') throw new DisplayFilterError(`${TYPE_NAMES[type]} cannot be converted from a string (${text})`, pos)
  const list = new ValueList()
  list.pushBytes(bytes, 0, bytes.length)
  return list
}

/** A character constant ('a') as a literal of `type`: its code, or that one byte. */
export function charLiteral(value: number, type: ValueType): ValueList {
  const list = new ValueList()
  if (isNumeric(type)) list.pushNum(type === 'bool' ? (value !== 0 ? 1 : 0) : value)
  else list.pushBytes(Buffer.from([value]), 0, 1)
  return list
}
