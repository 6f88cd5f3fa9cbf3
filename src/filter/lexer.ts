/**
 * The lexer of pcap-filter(7) expressions: turns the expression text into tokens that remember
 * where they start, so parse errors can point at the offending word. Token shapes follow
 * libpcap's scanner.l: numbers in decimal, hex (0x) or octal (leading 0); dotted IPv4 (`10.1`);
 * IPv6 and MAC addresses; names (`ftp-data`, `tcp-syn`); `\name` to use a keyword as a name.
 */
import { isIPv6 } from 'node:net'
import { FilterSyntaxError } from '../errors.js'

/** What kind of word a token is. */
export type TokenKind = 'num' | 'hid' | 'hid6' | 'eid' | 'id' | 'kw' | 'op' | 'end'

/** One token of a filter expression. */
export interface Token {
  kind: TokenKind
  /** The text as written (for `id` from `\name`, without the backslash). */
  text: string
  /** Numeric value of a `num` token. */
  value: number
  /** Offset of the first character in the expression. */
  pos: number
}

/** The reserved words of pcap-filter(7) (libpcap's scanner.l), lower case. */
export const keywords = new Set([
  'dst', 'src', 'host', 'gateway', 'net', 'mask', 'port', 'portrange', 'less', 'greater', 'proto', 'protochain', 'byte',
  'link', 'ether', 'fddi', 'tr', 'wlan', 'ppp', 'slip', 'arp', 'rarp', 'ip', 'ip6', 'tcp', 'udp', 'sctp', 'icmp', 'icmp6',
  'igmp', 'igrp', 'pim', 'vrrp', 'carp', 'ah', 'esp', 'atalk', 'aarp', 'decnet', 'lat', 'sca', 'moprc', 'mopdl', 'iso',
  'esis', 'es-is', 'isis', 'is-is', 'clnp', 'stp', 'ipx', 'netbeui', 'l1', 'l2', 'iih', 'lsp', 'snp', 'csnp', 'psnp',
  'broadcast', 'multicast', 'and', 'or', 'not', 'len', 'length', 'inbound', 'outbound', 'vlan', 'mpls', 'pppoed',
  'pppoes', 'geneve', 'type', 'subtype', 'dir', 'addr1', 'addr2', 'addr3', 'addr4', 'ra', 'ta', 'ifname', 'on', 'rnr',
  'rulenum', 'reason', 'rset', 'srnr', 'subrulenum', 'action', 'lane', 'llc', 'metac', 'bcc', 'oam', 'oamf4', 'oamf4ec',
  'oamf4sc', 'sc', 'ilmic', 'vpi', 'vci', 'connectmsg', 'metaconnect', 'hdlc', 'radio', 'atm',
])

const operators = ['&&', '||', '<<', '>>', '<=', '>=', '==', '!=', '(', ')', '[', ']', ':', '!', '&', '|', '+', '-', '*', '/', '%', '^', '=', '<', '>']

/** Parses a libpcap number: 0x hex, leading-0 octal, else decimal. NaN when it is none of those. */
export function parseNumber(text: string): number {
  let v: number
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) v = parseInt(text.slice(2), 16)
  else if (/^0[0-7]*$/.test(text)) v = parseInt(text, 8)
  else if (/^[0-9]+$/.test(text)) v = parseInt(text, 10)
  else return NaN
  return v
}

const macRe = /^(?:[0-9a-fA-F]{1,2}([:.-])[0-9a-fA-F]{1,2}(?:\1[0-9a-fA-F]{1,2}){4}|[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}|[0-9a-fA-F]{12})$/

/** Where in the expression `pos` is, for error messages: `offset 9 ('udp')` or `end of expression`. */
export function where(src: string, pos: number): string {
  if (pos >= src.length || src.slice(pos).trim() === '') return 'end of expression'
  const word = /^(?:[0-9A-Za-z_:.\\/-]+|\S)/.exec(src.slice(pos))?.[0] ?? src[pos]
  return `offset ${pos} ('${word}')`
}

/** A FilterSyntaxError saying what is wrong and where: `filter: <what> at <where>`. */
export function filterError(src: string, pos: number, what: string): FilterSyntaxError {
  return new FilterSyntaxError(`filter: ${what} at ${where(src, pos)}`)
}

/** True when the error already says where (made by filterError). */
export function isLocated(err: unknown): boolean {
  return err instanceof FilterSyntaxError && err.message.startsWith('filter: ')
}

/** Splits an expression into tokens; throws FilterSyntaxError for a character that starts none. */
export function tokenize(src: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i]
    if (/\s/.test(c)) { i++; continue }
    const start = i
    if (c === '\\') {
      const m = /^\\([^\s!()]+)/.exec(src.slice(i))
      if (!m) throw filterError(src, i, "lone '\\'")
      out.push({ kind: 'id', text: m[1], value: NaN, pos: start })
      i += m[0].length
      continue
    }
    // A word: names, numbers and addresses are made of these characters.
    const word = /^[0-9A-Za-z_:.-]+/.exec(src.slice(i))?.[0]
    if (word && !/^[-.]/.test(word)) {
      const w = classifyWord(word, start)
      out.push(w)
      i += w.text.length
      continue
    }
    const op = operators.find((o) => src.startsWith(o, i))
    if (op) {
      out.push({ kind: 'op', text: op, value: NaN, pos: start })
      i += op.length
      continue
    }
    throw filterError(src, i, `unexpected character '${c}'`)
  }
  out.push({ kind: 'end', text: '', value: NaN, pos: src.length })
  return out
}

function classifyWord(word: string, pos: number): Token {
  const tok = (kind: TokenKind, text: string, value = NaN): Token => ({ kind, text, value, pos })
  if (macRe.test(word)) return tok('eid', word)
  if (word.includes(':')) {
    if (isIPv6(word)) return tok('hid6', word)
    word = word.slice(0, word.indexOf(':')) // `tcp[13:1]`: the colon is an operator here
    if (word === '') return tok('op', ':')
  }
  const hid = /^[0-9]+(?:\.[0-9]+){1,3}/.exec(word)?.[0]
  if (hid && !/^[A-Za-z0-9_]/.test(word.slice(hid.length)) && !/^\.[0-9]/.test(word.slice(hid.length))) return tok('hid', hid)
  const num = /^(?:0[xX][0-9a-fA-F]+|[0-9]+)/.exec(word)?.[0]
  if (num && !/^[A-Za-z0-9_.]/.test(word.slice(num.length))) return tok('num', num, parseNumber(num))
  // libpcap names: [A-Za-z0-9]([-_.A-Za-z0-9]*[.A-Za-z0-9])? — a trailing '-' is not part of one.
  const name = /^[A-Za-z0-9_](?:[-_.A-Za-z0-9]*[.A-Za-z0-9_])?/.exec(word)?.[0] ?? word
  const lower = name.toLowerCase()
  if (keywords.has(lower)) return tok('kw', lower)
  return tok('id', name)
}
