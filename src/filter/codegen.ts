/**
 * The code generator: walks a filter's syntax tree left to right and builds the control-flow
 * graph of classic BPF tests, with libpcap's meaning for every primitive (gencode.c): `host`
 * covers IPv4, ARP and RARP; `port` covers TCP, UDP and SCTP over IPv4 (unfragmented, header
 * length from IHL) and IPv6 (fixed header); `tcp` over IPv6 also looks behind a fragment header.
 * (Past 400 lines on purpose: one primitive per function, as gencode.c has them, and they share
 * the offset and link-layer state of one walk; split, each part would need all of it.)
 */
import { isIPv4, isIPv6 } from 'node:net'
import { FilterSyntaxError } from '../errors.js'
import type { Arith, FilterNode, IdValue, Qualifiers } from './ast.js'
import { BPF, BPF_MEMWORDS, SKF_AD_OFF, SkfAd, stmt, type BpfInstruction } from './bpf.js'
import { always, and, never, not, or, test, type Pred } from './cfg.js'
import { EtherType, LinkLayer } from './link-layer.js'
import { encapsulation, LLC_SAP_STP } from './encapsulation.js'
import { protochain } from './protochain.js'
import { LinkType, linkTypeName } from '../pcap/link-types.js'
import { filterError, isLocated } from './lexer.js'
import { lookupHost, lookupNetwork, lookupProtocol, lookupService } from './names.js'

const IPPROTO = { ICMP: 1, IGMP: 2, TCP: 6, UDP: 17, FRAGMENT: 44, ICMPV6: 58, PIM: 103, VRRP: 112, SCTP: 132, AH: 51, ESP: 50 } as const
const ld = (size: number, k: number): BpfInstruction => stmt(BPF.LD | size | BPF.ABS, k)
const ldInd = (size: number, k: number): BpfInstruction => stmt(BPF.LD | size | BPF.IND, k)
const sizeCode = (n: number): number => (n === 1 ? BPF.B : n === 2 ? BPF.H : BPF.W)

/** Options of code generation. */
export interface CodegenOptions {
  linkType: number
  /** Generate for the kernel (ancillary VLAN and packet-type loads) rather than for files. */
  live: boolean
  /** NULL link type: the family word is in the other byte order than network order (little-endian capture host). */
  nullSwapped: boolean
}

/**
 * Generates the predicate graph for a parsed filter, whether the optimizer may rewrite it (not
 * after `geneve`: see encapsulation.ts), and how many scratch registers hold offsets (M[0..n)).
 */
export function generate(node: FilterNode, options: CodegenOptions, src = ''): { pred: Pred; optimizable: boolean; backwardJumps: boolean; registers: number } {
  const g = new Generator(options, src)
  const pred = g.gen(node)
  return { pred, optimizable: g.link.optimizable, backwardJumps: g.link.backwardJumps, registers: g.link.reservedMem }
}

class Generator {
  readonly link: LinkLayer

  constructor(private readonly options: CodegenOptions, private readonly src: string) {
    this.link = new LinkLayer(options.linkType, options.live, options.nullSwapped)
  }

  gen(n: FilterNode): Pred {
    switch (n.k) {
      case 'and': return this.andChain(n)
      case 'or': return this.orChain(n)
      case 'not': return not(this.gen(n.e))
    }
    // A primitive: errors about it say where it is in the expression.
    try {
      return this.primitive(n)
    } catch (err) {
      if (err instanceof FilterSyntaxError && !isLocated(err)) throw filterError(this.src, n.k === 'qualified' ? n.id.pos : n.pos, err.message)
      throw err
    }
  }

  /**
   * A chain of `or`s. Neighbouring primitives with the same qualifiers that name ports or IPv4
   * addresses (`port 80 or 443`, `host a or host b`) become one test of each side against
   * all the values: the program libpcap's optimizer ends up with, checked by the conformance
   * tests (also on truncated packets, where the order of loads decides the verdict).
   */
  private orChain(n: Extract<FilterNode, { k: 'and' | 'or' }>): Pred {
    const terms: FilterNode[] = []
    let cur: FilterNode = n
    while (cur.k === 'or') { terms.push(cur.r); cur = cur.l }
    terms.push(cur)
    terms.reverse()
    let result: Pred | undefined
    for (let i = 0; i < terms.length;) {
      let j = i + 1
      while (j < terms.length && this.groupable(terms[i], terms[j])) j++
      const p = j - i > 1 ? this.group(terms.slice(i, j) as Extract<FilterNode, { k: 'qualified' }>[]) : this.gen(terms[i])
      result = result ? or(result, p) : p
      i = j
    }
    return result!
  }

  /**
   * A chain of `and`s. Neighbouring negated primitives that could be grouped (`not port 22 and
   * not port 53`) are the negation of their group (De Morgan), as libpcap's optimizer ends up.
   */
  private andChain(n: Extract<FilterNode, { k: 'and' | 'or' }>): Pred {
    const terms: FilterNode[] = []
    let cur: FilterNode = n
    while (cur.k === 'and') { terms.push(cur.r); cur = cur.l }
    terms.push(cur)
    terms.reverse()
    const inner = (t: FilterNode): FilterNode | undefined => (t.k === 'not' && t.e.k === 'qualified' ? t.e : undefined)
    let result: Pred | undefined
    for (let i = 0; i < terms.length;) {
      let j = i + 1
      const first = inner(terms[i])
      while (first && j < terms.length && inner(terms[j]) && this.groupable(first, inner(terms[j])!)) j++
      const p = j - i > 1 ? not(this.group(terms.slice(i, j).map((t) => inner(t)!) as Extract<FilterNode, { k: 'qualified' }>[])) : this.gen(terms[i])
      result = result ? and(result, p) : p
      i = j
    }
    return result!
  }

  /** The type a qualified primitive has once defaults apply (`tcp 80` is a port). */
  private typeOf(q: Qualifiers, id: IdValue): string {
    return q.type ?? (id.kind === 'num' && q.proto !== undefined && ['tcp', 'udp', 'sctp'].includes(q.proto) ? 'port' : 'host')
  }

  private groupable(a: FilterNode, b: FilterNode): boolean {
    if (a.k !== 'qualified' || b.k !== 'qualified') return false
    // Directions may differ (`src port 53 or dst port 53`), but `src and dst` is not a side.
    if (a.q.proto !== b.q.proto || a.q.dir === 'src and dst' || b.q.dir === 'src and dst') return false
    // Ports and port ranges mix (`port 80 or portrange 20-22`): both are ranges of ports.
    const cls = (t: string): string => (t === 'portrange' ? 'port' : t)
    const ta = cls(this.typeOf(a.q, a.id))
    if (ta !== cls(this.typeOf(b.q, b.id))) return false
    const ok = (id: IdValue): boolean => {
      // Service names can limit a port to one transport: they stay on their own.
      if (ta === 'port') return id.kind === 'num' || (id.kind === 'id' && /^[0-9]+-[0-9]+$/.test(id.text + (id.rangeEnd !== undefined ? `-${id.rangeEnd}` : '')))
      if (ta === 'host' || ta === 'net') return (id.kind === 'hid' || id.kind === 'num') && a.q.proto !== 'ether' && a.q.proto !== 'link' && a.q.proto !== 'ip6'
      return false
    }
    return ok(a.id) && ok(b.id)
  }

  private group(terms: Extract<FilterNode, { k: 'qualified' }>[]): Pred {
    const { q } = terms[0]
    const type = this.typeOf(q, terms[0].id)
    // Each value is checked where it is written, so errors point at it.
    const at = <T>(t: Extract<FilterNode, { k: 'qualified' }>, f: () => T): T => {
      try { return f() } catch (err) {
        if (err instanceof FilterSyntaxError && !isLocated(err)) throw filterError(this.src, t.id.pos, err.message)
        throw err
      }
    }
    // Each value goes to the side(s) its own direction names; the group tests sources then destinations.
    const onSrc = terms.filter((t) => t.q.dir !== 'dst')
    const onDst = terms.filter((t) => t.q.dir !== 'src')
    const dir = onSrc.length === 0 ? 'dst' : onDst.length === 0 ? 'src' : undefined
    const gq: Qualifiers = { ...q, dir }
    if (type === 'port' || type === 'portrange') {
      const range = (t: Extract<FilterNode, { k: 'qualified' }>): [number, number] => at(t, () => { const r = this.portRange(t.q, t.id, this.typeOf(t.q, t.id) === 'portrange'); return [r.lo, r.hi] })
      return at(terms[0], () => this.port(gq, onSrc.map(range), onDst.map(range)))
    }
    const net = (t: Extract<FilterNode, { k: 'qualified' }>): { addr: number; mask: number } => at(t, () => ip4AddrMask(t.id, type as 'host' | 'net'))
    return at(terms[0], () => this.ip4HostOrNet(gq, onSrc.map(net), onDst.map(net)))
  }

  private primitive(n: Exclude<FilterNode, { k: 'and' | 'or' | 'not' }>): Pred {
    switch (n.k) {
      case 'pname': return this.protoAbbrev(n.proto)
      case 'qualified': return this.qualified(n.q, n.id)
      case 'rel': return this.relation(n.op, n.l, n.r)
      case 'length': {
        const p = test([stmt(BPF.LD | BPF.LEN)], n.op === 'less' ? BPF.JGT : BPF.JGE, n.v)
        return n.op === 'less' ? not(p) : p
      }
      case 'cast': return this.cast(n.proto, n.what)
      case 'vlan': return this.vlan(n.id)
      case 'encap': return encapsulation(this.link, n.what, n.id, n.sub)
      case 'direction': return this.direction(n.out)
    }
  }

  // --- network-layer building blocks ---

  private net(off: number): number { return this.link.offNet + off }
  private ip4(): Pred { return this.link.linkProto(EtherType.IP) }
  private ip6(): Pred { return this.link.linkProto(EtherType.IP6) }

  /** IPv4 protocol field is p. */
  private ip4Proto(p: number): Pred { return and(this.ip4(), test(this.link.ldNet(BPF.B, 9), BPF.JEQ, p)) }

  /** IPv6 next header is p, directly or behind one fragment header (libpcap's gen_proto for ip6). */
  private ip6Proto(p: number): Pred {
    const direct = test(this.link.ldNet(BPF.B, 6), BPF.JEQ, p)
    const frag = and(test(this.link.ldNet(BPF.B, 6), BPF.JEQ, IPPROTO.FRAGMENT), test(this.link.ldNet(BPF.B, 40), BPF.JEQ, p))
    return and(this.ip6(), or(direct, frag))
  }

  /** Not a fragment other than the first: offset bits of the IPv4 header are zero. */
  private notFrag(): Pred { return not(test(this.link.ldNet(BPF.H, 6), BPF.JSET, 0x1fff)) }

  private protoAbbrev(proto: string): Pred {
    switch (proto) {
      case 'ip': return this.ip4()
      case 'ip6': return this.ip6()
      case 'arp': return this.link.linkProto(EtherType.ARP)
      case 'rarp': return this.link.linkProto(EtherType.RARP)
      case 'tcp': return or(this.ip4Proto(IPPROTO.TCP), this.ip6Proto(IPPROTO.TCP))
      case 'udp': return or(this.ip4Proto(IPPROTO.UDP), this.ip6Proto(IPPROTO.UDP))
      case 'sctp': return or(this.ip4Proto(IPPROTO.SCTP), this.ip6Proto(IPPROTO.SCTP))
      case 'icmp': return this.ip4Proto(IPPROTO.ICMP)
      case 'icmp6': return this.ip6Proto(IPPROTO.ICMPV6)
      case 'igmp': return this.ip4Proto(IPPROTO.IGMP)
      case 'vrrp': case 'carp': return this.ip4Proto(IPPROTO.VRRP)
      case 'pim': return or(this.ip4Proto(IPPROTO.PIM), this.ip6Proto(IPPROTO.PIM))
      case 'ah': return or(this.ip4Proto(IPPROTO.AH), this.ip6Proto(IPPROTO.AH))
      case 'esp': return or(this.ip4Proto(IPPROTO.ESP), this.ip6Proto(IPPROTO.ESP))
      case 'stp': return this.link.linkProto(LLC_SAP_STP)
      case 'link': case 'ether': throw new FilterSyntaxError(`'${proto}' alone is not a filter; say what of it (ether host, ether proto, ...)`)
    }
    throw new FilterSyntaxError(`protocol '${proto}' is not supported by netkit yet`)
  }

  // --- qualified primitives: host, net, port, portrange, proto ---

  private qualified(q: Qualifiers, id: IdValue): Pred {
    const type = q.type ?? (id.kind === 'num' && q.proto !== undefined && ['tcp', 'udp', 'sctp'].includes(q.proto) ? 'port' : 'host')
    switch (type) {
      case 'port': case 'portrange': {
        const r = this.portRange(q, id, type === 'portrange')
        return this.port(q, [[r.lo, r.hi]], [[r.lo, r.hi]], r.only)
      }
      case 'proto': return this.protoNum(q, id)
      case 'protochain': return this.protochain(q, id)
      case 'host': case 'net': return this.hostOrNet(q, id, type)
      case 'gateway': return this.gateway(q, id)
    }
    throw new FilterSyntaxError(`'${type}' is not supported by netkit yet`)
  }

  /** The source and/or destination tests for a direction; a side without values (in a group) is left out. */
  private dirPred(dir: Qualifiers['dir'], src: (() => Pred) | undefined, dst: (() => Pred) | undefined): Pred {
    switch (dir) {
      case 'src': return src!()
      case 'dst': return dst!()
      case 'src and dst': { const s = src!(); return and(s, dst!()) }
      default: {
        if (!src) return dst!()
        if (!dst) return src()
        const s = src()
        return or(s, dst())
      }
    }
  }

  private hostOrNet(q: Qualifiers, id: IdValue, type: 'host' | 'net'): Pred {
    if (q.proto === 'ether' || q.proto === 'link') return this.etherHost(q, id)
    if (id.kind === 'eid') throw new FilterSyntaxError(`'${id.text}' is a MAC address; use 'ether host'`)
    if (id.kind === 'hid6' || (id.kind === 'id' && q.proto === 'ip6' && false)) return this.ip6HostOrNet(q, id, type)
    if (id.kind === 'id') {
      if (type === 'net') {
        // gencode.c: a network name's number is left-justified, its mask covers the parts given.
        let addr = lookupNetwork(id.text) ?? 0
        if (addr === 0) throw new FilterSyntaxError(`unknown network '${id.text}'`)
        let mask = 0xffffffff
        while (addr !== 0 && (addr & 0xff000000) === 0) { addr = (addr << 8) >>> 0; mask = (mask << 8) >>> 0 }
        return this.ip4HostOrNet(q, [{ addr, mask }])
      }
      const addrs = lookupHost(id.text)
      const wanted = addrs.filter((a) => (isIPv4(a) && q.proto !== 'ip6') || (isIPv6(a) && (q.proto === undefined || q.proto === 'ip6')))
      if (wanted.length === 0) throw new FilterSyntaxError(`unknown host '${id.text}'`)
      let p: Pred | undefined
      for (const a of wanted) {
        const one = isIPv6(a) ? this.ip6HostOrNet(q, { ...id, kind: 'hid6', text: a }, 'host') : this.ip4HostOrNet(q, [{ addr: parseIPv4(a), mask: 0xffffffff }])
        p = p ? or(p, one) : one
      }
      return p!
    }
    return this.ip4HostOrNet(q, [ip4AddrMask(id, type)])
  }

  /** IPv4 host/net tests; with several addresses, each side compares against all of them in turn. */
  private ip4HostOrNet(q: Qualifiers, srcNets: readonly { addr: number; mask: number }[], dstNets = srcNets): Pred {
    const side = (off: number, nets: readonly { addr: number; mask: number }[]): (() => Pred) | undefined => (nets.length === 0 ? undefined : () => cmp(off, nets))
    const cmp = (off: number, nets: readonly { addr: number; mask: number }[]): Pred => {
      let p: Pred | undefined
      for (const { addr, mask } of nets) {
        const s = this.link.ldNet(BPF.W, off)
        if (mask !== 0xffffffff) s.push(stmt(BPF.ALU | BPF.AND | BPF.K, mask))
        const t = test(s, BPF.JEQ, addr)
        p = p ? or(p, t) : t
      }
      return p!
    }
    const ip = (): Pred => { const c = this.ip4(); return and(c, this.dirPred(q.dir, side(12, srcNets), side(16, dstNets))) }
    const arp = (et: number): Pred => { const c = this.link.linkProto(et); return and(c, this.dirPred(q.dir, side(14, srcNets), side(24, dstNets))) }
    switch (q.proto) {
      case undefined: { const a = ip(); const b = arp(EtherType.ARP); return or(or(a, b), arp(EtherType.RARP)) }
      case 'ip': return ip()
      case 'arp': return arp(EtherType.ARP)
      case 'rarp': return arp(EtherType.RARP)
      case 'ip6': throw new FilterSyntaxError("'ip6' qualifier used with an IPv4 address")
    }
    throw new FilterSyntaxError(`'${q.proto} host' is not valid (host and net apply to ip, ip6, arp, rarp, ether)`)
  }

  private ip6HostOrNet(q: Qualifiers, id: IdValue, type: 'host' | 'net'): Pred {
    if (q.proto !== undefined && q.proto !== 'ip6') throw new FilterSyntaxError(`'${q.proto}' qualifier used with an IPv6 address`)
    if (id.mask !== undefined) throw new FilterSyntaxError(`'mask' is not valid for IPv6 networks; use /len ('${id.text}')`)
    if (id.prefix !== undefined && type !== 'net') throw new FilterSyntaxError(`mask syntax for networks only ('${id.text}')`)
    const bits = id.prefix ?? 128
    if (bits > 128) throw new FilterSyntaxError(`mask length must be <= 128 ('${id.text}/${bits}')`)
    const words = ipv6Words(id.text)
    const masks = [0, 1, 2, 3].map((i) => { const b = Math.max(0, Math.min(32, bits - 32 * i)); return b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0 })
    if (words.some((w, i) => (w & ~masks[i]) >>> 0 !== 0)) throw new FilterSyntaxError(`non-network bits set in "${id.text}/${bits}"`)
    const cmp = (off: number): Pred => {
      let p: Pred | undefined
      for (let i = 0; i < 4; i++) {
        if (masks[i] === 0) continue
        const s = this.link.ldNet(BPF.W, off + 4 * i)
        if (masks[i] !== 0xffffffff) s.push(stmt(BPF.ALU | BPF.AND | BPF.K, masks[i]))
        const t = test(s, BPF.JEQ, words[i])
        p = p ? and(p, t) : t
      }
      return p ?? always()
    }
    const c = this.ip6()
    return and(c, this.dirPred(q.dir, () => cmp(8), () => cmp(24)))
  }

  private etherHost(q: Qualifiers, id: IdValue): Pred {
    if (!this.link.isEthernet) throw new FilterSyntaxError('ethernet addresses are supported on EN10MB links only')
    if (id.kind !== 'eid' && !(id.kind === 'num' && /^[0-9a-fA-F]{12}$/.test(id.text))) throw new FilterSyntaxError(`illegal link layer address '${id.text}'`)
    const bytes = parseMac(id.text)
    const cmp = (off: number): Pred => and(
      test(this.link.ldLinkHdr(BPF.W, off + 2), BPF.JEQ, ((bytes[2] << 24) | (bytes[3] << 16) | (bytes[4] << 8) | bytes[5]) >>> 0),
      test(this.link.ldLinkHdr(BPF.H, off), BPF.JEQ, (bytes[0] << 8) | bytes[1]))
    const hosts = this.dirPred(q.dir, () => cmp(6), () => cmp(0))
    const inner = this.link.innerEthernet()
    return inner ? and(inner, hosts) : hosts
  }

  private protoNum(q: Qualifiers, id: IdValue): Pred {
    let v: number | undefined
    if (id.kind === 'num') v = id.value
    else if (id.kind === 'id') {
      if (q.proto === 'ether' || q.proto === 'link') v = ({ ip: EtherType.IP, ip6: EtherType.IP6, arp: EtherType.ARP, rarp: EtherType.RARP } as Record<string, number>)[id.text]
      else v = lookupProtocol(id.text)
      if (v === undefined) throw new FilterSyntaxError(`unknown ${q.proto === 'ether' ? 'ether' : 'ip'} proto '${id.text}'`)
    } else throw new FilterSyntaxError(`expected a protocol number or name after 'proto', got '${id.text}'`)
    if (q.dir !== undefined) throw new FilterSyntaxError("'src'/'dst' do not apply to 'proto'")
    // Values too big for the field are not errors in libpcap: they just never match.
    switch (q.proto) {
      case 'ether': case 'link': return this.link.linkProto(v)
      case undefined: return or(this.ip4Proto(v), this.ip6Proto(v))
      case 'ip': return this.ip4Proto(v)
      case 'ip6': return this.ip6Proto(v)
    }
    throw new FilterSyntaxError(`'${q.proto} proto' is not valid`)
  }

  /** `[ip|ip6] protochain N` (protochain.ts); N a number or a name from /etc/protocols. */
  private protochain(q: Qualifiers, id: IdValue): Pred {
    let v: number | undefined
    if (id.kind === 'num') v = id.value
    else if (id.kind === 'id') {
      v = lookupProtocol(id.text)
      if (v === undefined) throw new FilterSyntaxError(`unknown ip proto '${id.text}'`)
    } else throw new FilterSyntaxError(`'protochain' needs a protocol number or name, not '${id.text}'`)
    if (q.dir !== undefined) throw new FilterSyntaxError("'src'/'dst' do not apply to 'protochain'")
    if (q.proto !== undefined && q.proto !== 'ip' && q.proto !== 'ip6') throw new FilterSyntaxError(`bad protocol applied for 'protochain' ('${q.proto}'; it applies to ip and ip6)`)
    return protochain(this.link, q.proto, v)
  }

  /**
   * `gateway H`: libpcap 1.10 built with IPv6 support (as tcpdump is on Linux) refuses it
   * ("'gateway' not supported in this configuration"), whatever /etc/ethers and /etc/hosts
   * hold; the errors for an address instead of a name come first, as in gencode.c.
   */
  private gateway(q: Qualifiers, id: IdValue): Pred {
    if (id.kind === 'eid') throw new FilterSyntaxError("'gateway' needs a host name, not an Ethernet address")
    if (id.kind === 'hid6') throw new FilterSyntaxError("'gateway' needs a host name, not an IPv6 address")
    if (id.kind !== 'id') throw new FilterSyntaxError("'gateway' requires a name")
    void q
    throw new FilterSyntaxError("'gateway' is not supported: libpcap built with IPv6 support (tcpdump's) refuses it too; use 'ether host MAC and not host H'")
  }

  /** The transports a port qualifier covers; gencode.c: only tcp, udp and sctp qualify a port. */
  private transports(q: Qualifiers, range: boolean): string[] {
    const transports = q.proto === undefined ? ['sctp', 'tcp', 'udp'] : [q.proto]
    if (!transports.every((t) => t === 'tcp' || t === 'udp' || t === 'sctp')) throw new FilterSyntaxError(`illegal qualifier of '${range ? 'portrange' : 'port'}': '${q.proto}' (ports apply to tcp, udp, sctp)`)
    return transports
  }

  /**
   * The [low, high] ports of a port or portrange id, and the one transport a service name
   * restricts it to (pcap_nametoport: a name only in /etc/services as tcp means tcp only; tcp
   * and udp with the same number mean any transport), or undefined.
   */
  private portRange(q: Qualifiers, id: IdValue, range: boolean): { lo: number; hi: number; only?: string } {
    this.transports(q, range)
    let only: string | undefined
    let named = 0
    const resolve = (text: string): number => {
      let v: number | undefined
      // A number token keeps the scanner's value (octal, hex, or a named constant: `icmp-echo` is 8).
      if (id.kind === 'num' && text === id.text) v = id.value
      // Halves of a range are service lookups (getaddrinfo): only plain decimal is a number.
      else if (/^[0-9]+$/.test(text)) v = Number(text)
      else {
        const s = lookupService(text)
        if (s === undefined || (s.tcp === undefined && s.udp === undefined)) throw new FilterSyntaxError(`unknown port '${text}'`)
        v = s.tcp ?? s.udp
        const proto = s.tcp !== undefined && s.udp === s.tcp ? undefined : s.tcp !== undefined ? 'tcp' : 'udp'
        // Both ends of a range must agree, else any transport (pcap_nametoportrange).
        only = named++ === 0 || only === proto ? proto : undefined
        if (proto !== undefined && q.proto !== undefined && q.proto !== proto) throw new FilterSyntaxError(`port '${text}' is ${proto}`)
      }
      if (v === undefined || Number.isNaN(v)) throw new FilterSyntaxError(`illegal port '${text}'`)
      if (v > 65535) throw new FilterSyntaxError(`illegal port number ${v} > 65535`)
      return v
    }
    if (id.kind !== 'num' && id.kind !== 'id') throw new FilterSyntaxError(`expected a port number or name, got '${id.text}'`)
    // A single number is the range of that port alone; a single name is refused (libpcap's
    // pcap_nametoportrange wants 'a-b' of any name).
    if (range && id.kind === 'id' && id.rangeEnd === undefined) throw new FilterSyntaxError(`unknown port in range '${id.text}'`)
    let lo = resolve(id.text)
    let hi = lo
    if (range) {
      if (id.rangeEnd !== undefined) hi = resolve(id.rangeEnd)
      if (lo > hi) [lo, hi] = [hi, lo]
    }
    // A number in a range with a name leaves any transport.
    if (named > 0 && range && id.rangeEnd !== undefined && named < 2) only = undefined
    return { lo, hi, only: q.proto === undefined ? only : undefined }
  }

  /**
   * `port`/`portrange` for one or more ids with the same qualifiers (`port 80 or 443`): one
   * transport check, then each side against every port, as libpcap's optimizer leaves it.
   */
  private port(q: Qualifiers, ranges: readonly (readonly [number, number])[], dstRanges = ranges, only?: string): Pred {
    const transports = only !== undefined ? [only] : this.transports(q, false)
    const protoIn = (off: number): Pred => {
      let p: Pred | undefined
      for (const t of transports) {
        const c = test(this.link.ldNet(BPF.B, off), BPF.JEQ, IPPROTO[t.toUpperCase() as 'TCP' | 'UDP' | 'SCTP'])
        p = p ? or(p, c) : c
      }
      return p!
    }
    const check = (load: () => BpfInstruction[], off: number): (() => Pred) | undefined => ((off === 0 ? ranges : dstRanges).length === 0 ? undefined : () => {
      let p: Pred | undefined
      for (const [lo, hi] of off === 0 ? ranges : dstRanges) {
        let one: Pred
        if (lo === hi) one = test(load(), BPF.JEQ, lo)
        else { const ge = test(load(), BPF.JGE, lo); one = and(ge, not(test(load(), BPF.JGT, hi))) }
        p = p ? or(p, one) : one
      }
      return p!
    })
    const v4 = (): Pred => {
      const ports = this.dirPred(q.dir, check(() => [...this.link.ipHeaderLenX(), ldInd(BPF.H, this.net(0))], 0), check(() => [...this.link.ipHeaderLenX(), ldInd(BPF.H, this.net(2))], 2))
      return and(and(and(this.ip4(), protoIn(9)), this.notFrag()), ports)
    }
    const v6 = (): Pred => {
      const ports = this.dirPred(q.dir, check(() => this.link.ldNet(BPF.H, 40), 0), check(() => this.link.ldNet(BPF.H, 42), 2))
      return and(and(this.ip6(), protoIn(6)), ports)
    }
    if (q.proto === 'ip') return v4()
    if (q.proto === 'ip6') return v6()
    // IPv6 first, as libpcap's gen_ncode/gen_scode or the two (the order shows in -d output).
    const six = v6()
    return or(six, v4())
  }

  // --- broadcast/multicast, vlan, direction ---

  private cast(proto: string, what: 'broadcast' | 'multicast'): Pred {
    switch (proto) {
      case 'link': case 'ether':
        if (!this.link.isEthernet) throw new FilterSyntaxError(`'${what}' needs an Ethernet link type`)
      {
        const inner = this.link.innerEthernet()
        const b = what === 'multicast' ? test(this.link.ldLinkHdr(BPF.B, 0), BPF.JSET, 1)
          : and(test(this.link.ldLinkHdr(BPF.W, 2), BPF.JEQ, 0xffffffff), test(this.link.ldLinkHdr(BPF.H, 0), BPF.JEQ, 0xffff))
        return inner ? and(inner, b) : b
      }
      case 'ip': {
        const c = this.ip4()
        if (what === 'multicast') return and(c, test(this.link.ldNet(BPF.B, 16), BPF.JGE, 224))
        // The netmask is unknown for files (PCAP_NETMASK_UNKNOWN): only all-zeros and all-ones.
        return and(c, or(test(this.link.ldNet(BPF.W, 16), BPF.JEQ, 0), test(this.link.ldNet(BPF.W, 16), BPF.JEQ, 0xffffffff)))
      }
      case 'ip6':
        if (what === 'broadcast') throw new FilterSyntaxError("'ip6 broadcast' is not valid: IPv6 has no broadcast")
        { const c = this.ip6(); return and(c, test(this.link.ldNet(BPF.B, 24), BPF.JEQ, 255)) }
    }
    throw new FilterSyntaxError(`'${proto} ${what}' is not valid`)
  }

  private vlan(id: number | undefined): Pred {
    if (id !== undefined && id > 4095) throw new FilterSyntaxError(`VLAN tag ${id} greater than maximum 4095`)
    if (this.options.live && this.link.isEthernet && this.link.regLinkHdr === undefined) {
      // The kernel strips the outer tag into skb metadata: test it with ancillary loads.
      const present = test([ld(BPF.B, SKF_AD_OFF + SkfAd.VLAN_TAG_PRESENT)], BPF.JEQ, 1)
      if (id === undefined) return present
      return and(present, test([ld(BPF.H, SKF_AD_OFF + SkfAd.VLAN_TAG), stmt(BPF.ALU | BPF.AND | BPF.K, 0xfff)], BPF.JEQ, id))
    }
    // libpcap's gen_vlan knows Ethernet-like link types only (not Linux cooked, PPP or raw IP).
    if (!this.link.isEthernet) throw new FilterSyntaxError(`no VLAN support for link type ${linkTypeName(this.options.linkType)}`)
    const off = this.link.offLinkType!
    const tpid = (): BpfInstruction[] => this.link.ldLinkType(BPF.H)
    let p = or(or(test(tpid(), BPF.JEQ, 0x8100), test(tpid(), BPF.JEQ, 0x88a8)), test(tpid(), BPF.JEQ, 0x9100))
    if (id !== undefined) p = and(p, test([...this.link.ldNet(BPF.H, 0), stmt(BPF.ALU | BPF.AND | BPF.K, 0xfff)], BPF.JEQ, id))
    // Everything after `vlan` looks 4 bytes further in (libpcap's documented behaviour).
    this.link.offLinkType = off + 4
    this.link.offNet += 4
    return p
  }

  private direction(out: boolean): Pred {
    let p: Pred
    const PACKET_OUTGOING = 4
    switch (this.link.linkType) {
      case LinkType.LINUX_SLL: p = test([ld(BPF.H, 0)], BPF.JEQ, PACKET_OUTGOING); break
      case LinkType.LINUX_SLL2: p = test([ld(BPF.B, 10)], BPF.JEQ, PACKET_OUTGOING); break
      default:
        if (!this.options.live) throw new FilterSyntaxError(`inbound/outbound not supported on ${this.link.isEthernet ? 'Ethernet' : 'this link type'} when reading savefiles`)
        p = test([ld(BPF.H, SKF_AD_OFF + SkfAd.PKTTYPE)], BPF.JEQ, PACKET_OUTGOING)
    }
    return out ? p : not(p)
  }

  // --- arithmetic and relations ---

  private relation(op: string, l: Arith, r: Arith): Pred {
    // The protocol checks the loads need (an `ip[...]` needs IPv4, a `tcp[...]` unfragmented
    // IPv4 TCP). libpcap keeps those of both sides of a relation and of a load's index, but an
    // arithmetic operation keeps only its left operand's (gencode.c's gen_arth drops a1->b), so
    // `ip[2:2] - tcp[12] > 0` tests only for IPv4, and `tcp[0:2] + udp[0:2] > 1000` only for
    // TCP: the same packets must match here.
    const checks: Pred[] = []
    let sink = checks
    let mem = this.link.reservedMem
    const alloc = (): number => {
      if (mem >= BPF_MEMWORDS) throw new FilterSyntaxError('too many registers needed to evaluate expression')
      return mem++
    }
    const value = (a: Arith): BpfInstruction[] => {
      const c = constValue(a)
      if (c !== undefined) return [stmt(BPF.LD | BPF.IMM, c)]
      switch (a.k) {
        case 'len': return [stmt(BPF.LD | BPF.LEN)]
        case 'neg': return [...value(a.e), stmt(BPF.ALU | BPF.NEG)]
        case 'bin': {
          const opc = aluOps[a.op]
          const rc = constValue(a.r)
          if (rc !== undefined) {
            if ((a.op === '/' || a.op === '%') && rc === 0) throw new FilterSyntaxError(a.op === '/' ? 'division by zero' : 'modulus by zero')
            return [...value(a.l), stmt(BPF.ALU | opc | BPF.K, rc)]
          }
          const m = alloc()
          const left = value(a.l)
          const kept = sink
          sink = []
          const right = value(a.r)
          sink = kept
          const s = [...left, stmt(BPF.ST, m), ...right, stmt(BPF.MISC | BPF.TAX), stmt(BPF.LD | BPF.MEM, m), stmt(BPF.ALU | opc | BPF.X)]
          mem--
          return s
        }
        case 'load': return this.load(a, value, alloc, () => { mem-- }, sink)
      }
      throw new Error('unreachable')
    }
    const lv = value(l)
    const rc = constValue(r)
    let stmts: BpfInstruction[]
    let srcX = false
    let k = 0
    if (rc !== undefined) { stmts = lv; k = rc } else {
      const m = alloc()
      stmts = [...lv, stmt(BPF.ST, m), ...value(r), stmt(BPF.MISC | BPF.TAX), stmt(BPF.LD | BPF.MEM, m)]
      srcX = true
    }
    const jop = op === '>' || op === '<=' ? BPF.JGT : op === '>=' || op === '<' ? BPF.JGE : BPF.JEQ
    let p = test(stmts, jop, k, srcX)
    if (op === '<' || op === '<=' || op === '!=') p = not(p)
    let all: Pred | undefined
    for (const c of checks) all = all ? and(all, c) : c
    return all ? and(all, p) : p
  }

  private load(a: Extract<Arith, { k: 'load' }>, value: (a: Arith) => BpfInstruction[], alloc: () => number, free: () => void, checks: Pred[]): BpfInstruction[] {
    const size = sizeCode(a.size)
    const idx = constValue(a.index)
    let base: number
    let transport = false
    // The register holding the variable part of the header's offset (after geneve), if any.
    let reg = this.link.regNet
    switch (a.proto) {
      case 'link': case 'ether': base = this.link.offLinkHdr; reg = this.link.regLinkHdr; break
      case 'ip': checks.push(this.ip4()); base = this.net(0); break
      case 'ip6': checks.push(this.ip6()); base = this.net(0); break
      case 'arp': checks.push(this.link.linkProto(EtherType.ARP)); base = this.net(0); break
      case 'rarp': checks.push(this.link.linkProto(EtherType.RARP)); base = this.net(0); break
      case 'icmp6': checks.push(and(this.ip6(), test(this.link.ldNet(BPF.B, 6), BPF.JEQ, IPPROTO.ICMPV6))); base = this.net(40); break
      case 'tcp': case 'udp': case 'sctp': case 'icmp': case 'igmp': case 'pim': case 'vrrp': case 'carp': {
        const p = ({ tcp: IPPROTO.TCP, udp: IPPROTO.UDP, sctp: IPPROTO.SCTP, icmp: IPPROTO.ICMP, igmp: IPPROTO.IGMP, pim: IPPROTO.PIM, vrrp: IPPROTO.VRRP, carp: IPPROTO.VRRP } as Record<string, number>)[a.proto]
        checks.push(and(this.ip4Proto(p), this.notFrag()))
        base = this.net(0)
        transport = true
        break
      }
      default: throw new FilterSyntaxError(`'${a.proto}[...]' is not supported`)
    }
    const msh = this.link.ipHeaderLenX()
    if (idx !== undefined) {
      if (transport) return [...msh, ldInd(size, base + idx)]
      return reg === undefined ? [ld(size, base + idx)] : [stmt(BPF.LDX | BPF.MEM, reg), ldInd(size, base + idx)]
    }
    if (!transport) {
      const varPart = reg === undefined ? [] : [stmt(BPF.LDX | BPF.MEM, reg), stmt(BPF.ALU | BPF.ADD | BPF.X)]
      return [...value(a.index), ...varPart, stmt(BPF.MISC | BPF.TAX), ldInd(size, base)]
    }
    const m = alloc()
    const s = [...value(a.index), stmt(BPF.ST, m), ...msh, stmt(BPF.LD | BPF.MEM, m), stmt(BPF.ALU | BPF.ADD | BPF.X), stmt(BPF.MISC | BPF.TAX), ldInd(size, base)]
    free()
    return s
  }
}

const aluOps: Record<string, number> = { '+': BPF.ADD, '-': BPF.SUB, '*': BPF.MUL, '/': BPF.DIV, '%': BPF.MOD, '&': BPF.AND, '|': BPF.OR, '^': BPF.XOR, '<<': BPF.LSH, '>>': BPF.RSH }

/** The value of a constant arithmetic expression, folded with 32-bit unsigned BPF semantics. */
function constValue(a: Arith): number | undefined {
  switch (a.k) {
    case 'num': return a.v >>> 0
    case 'neg': { const v = constValue(a.e); return v === undefined ? undefined : (-v) >>> 0 }
    case 'bin': {
      const l = constValue(a.l)
      const r = constValue(a.r)
      if (l === undefined || r === undefined) return undefined
      switch (a.op) {
        case '+': return (l + r) >>> 0
        case '-': return (l - r) >>> 0
        case '*': return Math.imul(l, r) >>> 0
        case '/': if (r === 0) throw new FilterSyntaxError('division by zero'); return Math.floor(l / r) >>> 0
        case '%': if (r === 0) throw new FilterSyntaxError('modulus by zero'); return (l % r) >>> 0
        case '&': return (l & r) >>> 0
        case '|': return (l | r) >>> 0
        case '^': return (l ^ r) >>> 0
        case '<<': return r > 31 ? 0 : (l << r) >>> 0
        case '>>': return r > 31 ? 0 : l >>> r
      }
    }
  }
  return undefined
}

/** An IPv4 host or network id as address and mask, as libpcap's gen_ncode/gen_mcode read numbers and dotted quads. */
function ip4AddrMask(id: IdValue, type: 'host' | 'net'): { addr: number; mask: number } {
  let addr: number
  let mask: number
  if (id.prefix !== undefined || id.mask !== undefined) {
    if (type !== 'net') throw new FilterSyntaxError(`mask syntax for networks only ('${id.text}')`)
    addr = id.kind === 'num' ? id.value >>> 0 : partialIPv4(id.text).addr
    if (id.kind === 'hid') addr = (addr << (32 - partialIPv4(id.text).bits)) >>> 0
    if (id.prefix !== undefined) {
      if (id.prefix > 32) throw new FilterSyntaxError(`mask length must be <= 32 ('${id.text}/${id.prefix}')`)
      mask = id.prefix === 0 ? 0 : (0xffffffff << (32 - id.prefix)) >>> 0
    } else {
      const m = partialIPv4(id.mask!)
      mask = m.bits === 32 ? m.addr : (m.addr << (32 - m.bits)) >>> 0
    }
    if ((addr & ~mask) >>> 0 !== 0) throw new FilterSyntaxError(`non-network bits set in "${id.text}${id.prefix !== undefined ? `/${id.prefix}` : ` mask ${id.mask}`}"`)
  } else if (id.kind === 'num') {
    addr = id.value >>> 0
    mask = 0xffffffff
    if (type === 'net') while (addr !== 0 && (addr & 0xff000000) === 0) { addr = (addr << 8) >>> 0; mask = (mask << 8) >>> 0 }
  } else {
    const p = partialIPv4(id.text)
    addr = (p.addr * 2 ** (32 - p.bits)) >>> 0
    mask = p.bits === 32 ? 0xffffffff : (0xffffffff << (32 - p.bits)) >>> 0
  }
  return { addr, mask }
}

function partialIPv4(text: string): { addr: number; bits: number } {
  const parts = text.split('.').map(Number)
  if (parts.some((p) => !(p >= 0 && p <= 255))) throw new FilterSyntaxError(`invalid IPv4 address '${text}'`)
  let addr = 0
  for (const p of parts) addr = addr * 256 + p
  return { addr: addr >>> 0, bits: parts.length * 8 }
}

function parseIPv4(text: string): number { return partialIPv4(text).addr }

function ipv6Words(text: string): number[] {
  if (!isIPv6(text)) throw new FilterSyntaxError(`invalid IPv6 address '${text}'`)
  let [head, tail] = text.includes('::') ? text.split('::') : [text, undefined]
  const conv = (s: string): number[] => {
    if (s === '') return []
    const out: number[] = []
    for (const g of s.split(':')) {
      if (g.includes('.')) { const v = parseIPv4(g); out.push(v >>> 16, v & 0xffff) } else out.push(parseInt(g, 16))
    }
    return out
  }
  const h = conv(head)
  const t = tail === undefined ? [] : conv(tail)
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t]
  return [0, 1, 2, 3].map((i) => ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0)
}

function parseMac(text: string): number[] {
  const hex = text.includes(':') || text.includes('-') || (text.includes('.') && text.split('.').length === 6)
    ? text.split(/[:.-]/).map((g) => g.padStart(2, '0')).join('')
    : text.replace(/\./g, '')
  return [0, 1, 2, 3, 4, 5].map((i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16))
}
