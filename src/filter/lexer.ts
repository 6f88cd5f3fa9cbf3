/**
 * The lexer of pcap-filter(7) expressions: turns the expression text into tokens that remember
 * where they start, so errors can point at the offending word. It scans like libpcap's
 * scanner.l (a flex scanner): at each point the longest match of any token shape wins, and on a
 * tie the earlier rule (keywords first, names last). So `1-1024` and `10-2` are one name (as in
 * libpcap, where `ip[10-2]` is a syntax error), `tcp-syn` is a number, and keywords are case
 * sensitive. Shapes: numbers in decimal, hex (0x) or octal (leading 0); dotted IPv4 (`10.1`);
 * IPv6 and MAC addresses; names; `\name` to use a keyword as a name.
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

/**
 * The reserved words of pcap-filter(7) in libpcap 1.10 (scanner.l). Several spell one token:
 * `ppp`, `slip`, `fddi`, `tr` and `wlan` are `link`; `length` is `len`; `es-is` is `esis`.
 */
export const keywords = new Set([
  'dst', 'src', 'link', 'ether', 'ppp', 'slip', 'fddi', 'tr', 'wlan', 'arp', 'rarp', 'ip', 'sctp', 'tcp', 'udp', 'icmp',
  'igmp', 'igrp', 'pim', 'vrrp', 'carp', 'radio', 'ip6', 'icmp6', 'ah', 'esp', 'atalk', 'aarp', 'decnet', 'lat', 'sca',
  'moprc', 'mopdl', 'iso', 'esis', 'es-is', 'isis', 'is-is', 'l1', 'l2', 'iih', 'lsp', 'snp', 'csnp', 'psnp', 'clnp',
  'stp', 'ipx', 'netbeui', 'host', 'net', 'mask', 'port', 'portrange', 'proto', 'protochain', 'gateway', 'type',
  'subtype', 'direction', 'dir', 'address1', 'addr1', 'address2', 'addr2', 'address3', 'addr3', 'address4', 'addr4',
  'ra', 'ta', 'less', 'greater', 'byte', 'broadcast', 'multicast', 'and', 'or', 'not', 'len', 'length', 'inbound',
  'outbound', 'ifindex', 'vlan', 'mpls', 'pppoed', 'pppoes', 'geneve', 'lane', 'llc', 'metac', 'bcc', 'oam', 'oamf4',
  'oamf4ec', 'oamf4sc', 'sc', 'ilmic', 'vpi', 'vci', 'connectmsg', 'metaconnect', 'on', 'ifname', 'rset', 'ruleset',
  'rnr', 'rulenum', 'srnr', 'subrulenum', 'reason', 'action', 'fisu', 'lssu', 'lsu', 'msu', 'hfisu', 'hlssu', 'hmsu',
  'sio', 'opc', 'dpc', 'sls', 'hsio', 'hopc', 'hdpc', 'hsls',
])

/** Keywords that are another spelling of one token. */
const synonyms: Record<string, string> = {
  ppp: 'link', slip: 'link', fddi: 'link', tr: 'link', wlan: 'link', length: 'len', 'es-is': 'esis', 'is-is': 'isis',
  direction: 'dir', address1: 'addr1', address2: 'addr2', address3: 'addr3', address4: 'addr4', ifname: 'on',
  ruleset: 'rset', rulenum: 'rnr', subrulenum: 'srnr', lsu: 'lssu',
}

/** Named constants the scanner turns into numbers (`tcp[tcpflags] & tcp-syn`). */
export const namedNumbers: Record<string, number> = {
  icmptype: 0, icmpcode: 1, 'icmp-echoreply': 0, 'icmp-unreach': 3, 'icmp-sourcequench': 4, 'icmp-redirect': 5,
  'icmp-echo': 8, 'icmp-routeradvert': 9, 'icmp-routersolicit': 10, 'icmp-timxceed': 11, 'icmp-paramprob': 12,
  'icmp-tstamp': 13, 'icmp-tstampreply': 14, 'icmp-ireq': 15, 'icmp-ireqreply': 16, 'icmp-maskreq': 17, 'icmp-maskreply': 18,
  icmp6type: 0, icmp6code: 1, 'icmp6-destinationunreach': 1, 'icmp6-packettoobig': 2, 'icmp6-timeexceeded': 3,
  'icmp6-parameterproblem': 4, 'icmp6-echo': 128, 'icmp6-echoreply': 129, 'icmp6-multicastlistenerquery': 130,
  'icmp6-multicastlistenerreportv1': 131, 'icmp6-multicastlistenerdone': 132, 'icmp6-routersolicit': 133,
  'icmp6-routeradvert': 134, 'icmp6-neighborsolicit': 135, 'icmp6-neighboradvert': 136, 'icmp6-redirect': 137,
  'icmp6-routerrenum': 138, 'icmp6-nodeinformationquery': 139, 'icmp6-nodeinformationresponse': 140,
  'icmp6-ineighbordiscoverysolicit': 141, 'icmp6-ineighbordiscoveryadvert': 142, 'icmp6-multicastlistenerreportv2': 143,
  'icmp6-homeagentdiscoveryrequest': 144, 'icmp6-homeagentdiscoveryreply': 145, 'icmp6-mobileprefixsolicit': 146,
  'icmp6-mobileprefixadvert': 147, 'icmp6-certpathsolicit': 148, 'icmp6-certpathadvert': 149,
  'icmp6-multicastrouteradvert': 151, 'icmp6-multicastroutersolicit': 152, 'icmp6-multicastrouterterm': 153,
  tcpflags: 13, 'tcp-fin': 0x01, 'tcp-syn': 0x02, 'tcp-rst': 0x04, 'tcp-push': 0x08, 'tcp-ack': 0x10, 'tcp-urg': 0x20,
  'tcp-ece': 0x40, 'tcp-cwr': 0x80,
}

const twoCharOps = ['>=', '<=', '!=', '==', '<<', '>>', '&&', '||']
const oneCharOps = '+-*/%:[]!<>()&|^='

/**
 * Parses a libpcap number (scanner.l's stou): 0x hex, leading-0 octal, else decimal; at most
 * 32 bits. Returns an error text for digits the base does not have, or for overflow.
 */
export function parseNumber(text: string): number | string {
  let v: number
  if (/^0[xX]/.test(text)) v = parseInt(text.slice(2), 16)
  else if (text.startsWith('0')) {
    if (!/^[0-7]+$/.test(text)) return `number ${text} contains non-octal digit`
    v = parseInt(text, 8)
  } else v = parseInt(text, 10)
  if (v > 0xffffffff) return `number ${text} overflows 32 bits`
  return v
}

// Anchored token shapes (sticky regexes), in scanner.l's rule order after the keywords.
const N = '(?:0[xX][0-9A-Fa-f]+|[0-9]+)'
const B = '[0-9A-Fa-f]{1,2}'
const B2 = '[0-9A-Fa-f]{4}'
const shapes: { kind: TokenKind | 'aid' | 'bogus-mac' | 'named'; re: RegExp }[] = [
  { kind: 'aid', re: new RegExp(`\\$${B}`, 'y') },
  { kind: 'eid', re: new RegExp(`${B}:${B}:${B}:${B}:${B}:${B}|${B}-${B}-${B}-${B}-${B}-${B}|${B}\\.${B}\\.${B}\\.${B}\\.${B}\\.${B}|${B2}\\.${B2}\\.${B2}|(?:${B2}){3}`, 'y') },
  { kind: 'num', re: new RegExp(N, 'y') },
  { kind: 'hid', re: new RegExp(`${N}\\.${N}(?:\\.${N}(?:\\.${N})?)?`, 'y') },
  { kind: 'hid6', re: /[0-9A-Fa-f:.]+/y },
  { kind: 'bogus-mac', re: new RegExp(`${B}:+(?:${B}:+)+`, 'y') },
  { kind: 'named', re: /[a-z0-9-]+/y },
  { kind: 'id', re: /[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?/y },
]

/** All prefixes regex `re` can match at `i` take the longest; for hid6, the longest valid IPv6 prefix. */
function matchAt(kind: string, re: RegExp, src: string, i: number): string | undefined {
  re.lastIndex = i
  const m = re.exec(src)
  if (!m) return undefined
  if (kind === 'hid6') {
    // The IPv6 shapes of scanner.l are the textual forms getaddrinfo accepts: try the longest run first.
    for (let n = m[0].length; n >= 2; n--) if (m[0].slice(0, n).includes(':') && isIPv6(m[0].slice(0, n))) return m[0].slice(0, n)
    return undefined
  }
  if (kind === 'named') {
    // Longest named constant that is a prefix of the run.
    for (let n = m[0].length; n > 0; n--) if (namedNumbers[m[0].slice(0, n)] !== undefined) return m[0].slice(0, n)
    return undefined
  }
  if (kind === 'eid') {
    // Alternations match the first alternative that fits; flex wants the longest.
    let best = m[0]
    for (const alt of re.source.split('|')) {
      const r = new RegExp(alt, 'y')
      r.lastIndex = i
      const a = r.exec(src)?.[0]
      if (a && a.length > best.length) best = a
    }
    return best
  }
  return m[0]
}

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
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue }
    if (c === '\\') {
      const m = /\\([^ !()\n\t]+)/y
      m.lastIndex = i
      const r = m.exec(src)
      if (!r) throw filterError(src, i, "lone '\\'")
      out.push({ kind: 'id', text: r[1], value: NaN, pos: i })
      i += r[0].length
      continue
    }
    // Longest match wins; on a tie, the earlier rule: keywords, operators, then the shapes.
    let best: { kind: string; text: string } | undefined
    const offer = (kind: string, text: string | undefined): void => {
      if (text !== undefined && text.length > 0 && (!best || text.length > best.text.length)) best = { kind, text }
    }
    const word = /[A-Za-z0-9][-A-Za-z0-9]*/y
    word.lastIndex = i
    const w = word.exec(src)?.[0]
    if (w) for (let n = w.length; n > 0; n--) if (keywords.has(w.slice(0, n))) { offer('kw', w.slice(0, n)); break }
    offer('op', twoCharOps.find((o) => src.startsWith(o, i)) ?? (oneCharOps.includes(c) ? c : undefined))
    for (const s of shapes) offer(s.kind, matchAt(s.kind, s.re, src, i))
    if (!best) throw filterError(src, i, `unexpected character '${c}'`)
    const pos = i
    i += best.text.length
    switch (best.kind) {
      case 'kw': out.push({ kind: 'kw', text: synonyms[best.text] ?? best.text, value: NaN, pos }); break
      case 'num': {
        const v = parseNumber(best.text)
        if (typeof v === 'string') throw filterError(src, pos, v)
        out.push({ kind: 'num', text: best.text, value: v, pos })
        break
      }
      case 'named': out.push({ kind: 'num', text: best.text, value: namedNumbers[best.text], pos }); break
      case 'aid': throw filterError(src, pos, `ARCnet address '${best.text}' is not supported`)
      case 'bogus-mac': throw filterError(src, pos, `bogus ethernet address ${best.text}`)
      default: out.push({ kind: best.kind as TokenKind, text: best.text, value: NaN, pos })
    }
  }
  out.push({ kind: 'end', text: '', value: NaN, pos: src.length })
  return out
}
