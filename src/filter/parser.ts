/**
 * The parser of pcap-filter(7) expressions, with libpcap's grammar (grammar.y): `and` and `or`
 * have equal precedence and associate to the left, `not` binds tightest, and a bare id inherits
 * the qualifiers of the last qualified primitive (`host a or b`, `tcp port 22 or 80`).
 */
import { FilterSyntaxError } from '../errors.js'
import type { Arith, FilterNode, IdValue, Qualifiers, TypeQual } from './ast.js'
import { filterError, tokenize, type Token } from './lexer.js'

const protoQuals = new Set(['link', 'ether', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'sctp', 'icmp', 'icmp6', 'igmp',
  'igrp', 'pim', 'vrrp', 'carp', 'ah', 'esp', 'atalk', 'aarp', 'decnet', 'lat', 'sca', 'moprc', 'mopdl', 'iso', 'esis',
  'es-is', 'isis', 'is-is', 'clnp', 'stp', 'ipx', 'netbeui', 'fddi', 'tr', 'wlan', 'ppp', 'slip', 'radio'])
const typeQuals = new Set(['host', 'net', 'port', 'portrange', 'proto', 'protochain', 'gateway'])
const relops = new Set(['>', '<', '>=', '<=', '=', '==', '!='])
/** The deepest nesting accepted (libpcap's bison parser gives up around 10000 stack entries). */
const MAX_DEPTH = 500
const precedence: Record<string, number> = { '|': 1, '^': 2, '&': 3, '<<': 4, '>>': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6 }

/** Parses a filter expression into its syntax tree. Throws FilterSyntaxError saying where. */
export function parseFilter(src: string): FilterNode {
  return new Parser(src).parseAll()
}

class Parser {
  private toks: Token[]
  private i = 0
  private last: Qualifiers | undefined

  constructor(private readonly src: string) {
    this.toks = tokenize(src)
  }

  private get t(): Token { return this.toks[this.i] }
  private peek(n = 1): Token { return this.toks[Math.min(this.i + n, this.toks.length - 1)] }
  private is(text: string, t = this.t): boolean { return (t.kind === 'kw' || t.kind === 'op') && t.text === text }

  fail(what: string, t: Token = this.t): never {
    throw filterError(this.src, t.pos, what)
  }

  parseAll(): FilterNode {
    if (this.t.kind === 'end') this.fail('empty expression')
    const e = this.expr()
    if ((this.t as Token).kind !== 'end') this.fail(this.is(')') ? "unbalanced ')'" : 'expected and/or')
    return e
  }

  private expr(): FilterNode {
    let l = this.term()
    for (;;) {
      let op: 'and' | 'or'
      if (this.is('and') || this.is('&&')) op = 'and'
      else if (this.is('or') || this.is('||')) op = 'or'
      else return l
      this.i++
      const r = this.term()
      l = { k: op, l, r }
    }
  }

  /** Nesting depth of parentheses and `not`: bounded, so a hostile expression cannot exhaust the stack. */
  private depth = 0

  private nest(): void {
    if (++this.depth > MAX_DEPTH) this.fail(`expression nested more than ${MAX_DEPTH} deep`)
  }

  private term(): FilterNode {
    if (this.is('not') || this.is('!')) {
      this.i++
      this.nest()
      const e = this.term()
      this.depth--
      return { k: 'not', e }
    }
    // A relation starts like arithmetic; try it first and fall back (libpcap's grammar is LALR).
    if (this.mayStartArith()) {
      const save = this.i
      try {
        const l = this.arith(0)
        if (this.t.kind === 'op' && relops.has(this.t.text)) {
          const op = this.t.text === '==' ? '=' : this.t.text
          this.i++
          const r = this.arith(0)
          return { k: 'rel', op, l, r, pos: this.toks[save].pos }
        }
      } catch (err) {
        if (!(err instanceof FilterSyntaxError)) throw err
        if (!this.isParen(save) && !this.isBareId(save)) throw err
      }
      if (!this.isParen(save) && !this.isBareId(save)) this.fail('expected a relation (=, !=, <, <=, >, >=)')
      this.i = save
    }
    if (this.is('(')) {
      this.i++
      this.nest()
      const e = this.expr()
      if (!this.is(')')) this.fail("expected ')'")
      this.i++
      this.depth--
      return e
    }
    return this.primitive()
  }

  private isParen(at: number): boolean { return this.is('(', this.toks[at]) }
  private isBareId(at: number): boolean { return this.toks[at].kind === 'num' && this.last !== undefined }

  private mayStartArith(): boolean {
    const t = this.t
    if (t.kind === 'num' || this.is('(') || this.is('-') || this.is('len') || this.is('length')) return true
    return (t.kind === 'kw') && protoQuals.has(t.text) && this.is('[', this.peek())
  }

  private arith(minPrec: number): Arith {
    let l = this.unary()
    for (;;) {
      const t = this.t
      const p = t.kind === 'op' ? precedence[t.text] : undefined
      if (p === undefined || p <= minPrec) return l
      this.i++
      const r = this.arith(p)
      l = { k: 'bin', op: t.text, l, r }
    }
  }

  private unary(): Arith {
    const t = this.t
    if (this.is('-')) { this.i++; this.nest(); const e = this.unary(); this.depth--; return { k: 'neg', e } }
    if (this.is('(')) {
      this.i++
      this.nest()
      const e = this.arith(0)
      if (!this.is(')')) this.fail("expected ')'")
      this.i++
      this.depth--
      return e
    }
    if (t.kind === 'num') { this.i++; return { k: 'num', v: t.value >>> 0 } }
    if (this.is('len') || this.is('length')) { this.i++; return { k: 'len' } }
    if (t.kind === 'id') this.fail(`'${t.text}' is not a number or a known constant`)
    if (t.kind === 'kw' && protoQuals.has(t.text) && this.is('[', this.peek())) {
      this.i += 2
      const index = this.arith(0)
      let size = 1
      if (this.is(':')) {
        this.i++
        const s = this.t
        if (s.kind !== 'num') this.fail('expected a size (1, 2 or 4)')
        if (s.value !== 1 && s.value !== 2 && s.value !== 4) this.fail('data size must be 1, 2, or 4', s)
        size = s.value
        this.i++
      }
      if (!this.is(']')) this.fail("expected ']'")
      this.i++
      return { k: 'load', proto: t.text, index, size, pos: t.pos }
    }
    this.fail('expected a number, len, or proto[offset]')
  }

  private primitive(): FilterNode {
    const t = this.t
    if (t.kind === 'end') this.fail('expression ends too early')
    if (t.kind === 'kw') {
      switch (t.text) {
        case 'less': case 'greater': {
          this.i++
          const n = this.t
          if (n.kind !== 'num') this.fail(`'${t.text}' needs a number`)
          this.i++
          return { k: 'length', op: t.text, v: n.value >>> 0, pos: t.pos }
        }
        case 'broadcast': case 'multicast':
          this.i++
          return { k: 'cast', proto: 'link', what: t.text, pos: t.pos }
        case 'inbound': case 'outbound':
          this.i++
          return { k: 'direction', out: t.text === 'outbound', pos: t.pos }
        case 'vlan': {
          this.i++
          if (this.t.kind === 'num') { const v = this.t.value; this.i++; return { k: 'vlan', id: v, pos: t.pos } }
          return { k: 'vlan', pos: t.pos }
        }
        case 'mpls': case 'pppoes': case 'geneve': {
          this.i++
          if (this.t.kind === 'num') { const v = this.t.value; this.i++; return { k: 'encap', what: t.text, id: v, pos: t.pos } }
          return { k: 'encap', what: t.text, pos: t.pos }
        }
        case 'pppoed':
          this.i++
          return { k: 'encap', what: 'pppoed', pos: t.pos }
        case 'llc': {
          this.i++
          // `llc rnr`: rnr is also a pf keyword (libpcap's grammar takes it here too).
          if (this.t.kind === 'id' || (this.t.kind === 'kw' && this.t.text === 'rnr')) { const sub = this.t.text; this.i++; return { k: 'encap', what: 'llc', sub, pos: t.pos } }
          return { k: 'encap', what: 'llc', pos: t.pos }
        }
      }
      const q: Qualifiers = { proto: undefined, dir: undefined, type: undefined }
      let any = false
      if (protoQuals.has(t.text)) {
        q.proto = t.text
        this.i++
        any = true
        if (this.is('broadcast') || this.is('multicast')) {
          const w = this.t.text as 'broadcast' | 'multicast'
          this.i++
          return { k: 'cast', proto: q.proto, what: w, pos: t.pos }
        }
      }
      if (this.is('src') || this.is('dst')) {
        const first = this.t.text as 'src' | 'dst'
        this.i++
        any = true
        if ((this.is('or') || this.is('and')) && (this.is('src', this.peek()) || this.is('dst', this.peek())) && this.peek().text !== first) {
          q.dir = `src ${this.t.text} dst` as 'src or dst' | 'src and dst'
          this.i += 2
        } else q.dir = first
      }
      if (this.t.kind === 'kw' && typeQuals.has(this.t.text)) {
        q.type = this.t.text as TypeQual
        this.i++
        any = true
      }
      if (!any) this.fail(`unexpected keyword '${t.text}'`)
      if (q.dir === undefined && q.type === undefined) {
        // A protocol alone (`tcp`), unless an id follows (`ip 10.0.0.1` is not valid pcap syntax either).
        return { k: 'pname', proto: q.proto!, pos: t.pos }
      }
      this.last = q
      // libpcap's `head ( pid )`: `host (10.0.0.1 or 10.0.0.2)`, `net ( 299 )`.
      if (this.is('(')) return this.qualifiedGroup(q, t.pos)
      const id = this.id(q)
      return { k: 'qualified', q, id, pos: t.pos }
    }
    if (t.kind === 'num' || t.kind === 'hid' || t.kind === 'hid6' || t.kind === 'eid' || t.kind === 'id') {
      if (this.last === undefined) this.fail(t.kind === 'id' ? `unknown word '${t.text}' (a name needs a qualifier such as host or port)` : 'an address needs a qualifier such as host, net or port')
      const q = this.last
      return { k: 'qualified', q, id: this.id(q), pos: t.pos }
    }
    this.fail(t.kind === 'op' ? `unexpected '${t.text}'` : `unexpected '${t.text}'`)
  }

  /**
   * A parenthesized list of ids after qualifiers (libpcap's `pid`): ids joined by and/or (equal
   * precedence, left to right, as everywhere in pcap-filter), or nested lists, each id taking
   * the qualifiers before the parenthesis.
   */
  private qualifiedGroup(q: Qualifiers, pos: number): FilterNode {
    this.i++ // '('
    this.nest()
    const item = (): FilterNode => this.is('(') ? this.qualifiedGroup(q, pos) : { k: 'qualified', q, id: this.id(q), pos }
    let l = item()
    for (;;) {
      let op: 'and' | 'or'
      if (this.is('and') || this.is('&&')) op = 'and'
      else if (this.is('or') || this.is('||')) op = 'or'
      else break
      this.i++
      l = { k: op, l, r: item() }
    }
    if (!this.is(')')) this.fail("expected ')' after the addresses")
    this.i++
    this.depth--
    return l
  }

  private id(q: Qualifiers): IdValue {
    let t = this.t
    // `ip proto \udp` names a protocol with a keyword's spelling. A shell eats the backslash of
    // an unquoted `\udp`, so after `proto` a protocol keyword is taken as that name too (libpcap
    // would say syntax error; the meaning is unambiguous).
    if (q.type === 'proto' && t.kind === 'kw' && protoQuals.has(t.text)) t = { ...t, kind: 'id' }
    if (!(t.kind === 'num' || t.kind === 'hid' || t.kind === 'hid6' || t.kind === 'eid' || t.kind === 'id')) {
      this.fail(t.kind === 'end' ? 'expected an address, number or name' : `expected an address, number or name after the qualifiers`)
    }
    this.i++
    const id: IdValue = { kind: t.kind, text: t.text, value: t.value, pos: t.pos }
    if (this.is('/')) {
      this.i++
      const n = this.t
      if (n.kind !== 'num') this.fail('expected a prefix length after /')
      this.i++
      id.prefix = n.value
    } else if (this.is('mask')) {
      this.i++
      const m = this.t
      if (m.kind !== 'hid' && m.kind !== 'hid6' && m.kind !== 'num') this.fail('expected a netmask after mask')
      this.i++
      id.mask = m.text
    } else if (q.type === 'portrange' && t.kind === 'id' && t.text.includes('-')) {
      // pcap_nametoportrange: sscanf("%d-%d") first (`1-2-3` is 1-2), else split at the first
      // '-' and look both halves up as ports (`80-http`; `ftp-data` is 'ftp' to 'data').
      const nums = /^([0-9]+)-([0-9]+)/.exec(t.text)
      const cut = t.text.indexOf('-')
      id.text = nums ? nums[1] : t.text.slice(0, cut)
      id.rangeEnd = nums ? nums[2] : t.text.slice(cut + 1)
    }
    return id
  }
}
