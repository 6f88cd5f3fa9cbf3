/**
 * The encapsulation primitives of pcap-filter(7): `llc [subtype]`, `pppoed`, `pppoes [session]`,
 * `mpls [label]` and `geneve [vni]`, compiled as libpcap 1.10's gencode.c compiles them.
 * `pppoes`, `mpls` and `geneve` change the link layer for everything after them in the
 * expression (libpcap's documented behaviour, like `vlan`): after `pppoes` the protocol is
 * PPP's, 8 bytes further in; each `mpls` steps over one 4-byte label; after `geneve` the inner
 * frame is at an offset known only per packet (see geneve()).
 */
import { FilterSyntaxError } from '../errors.js'
import { LinkType, linkTypeName } from '../pcap/link-types.js'
import { BPF, BPF_MEMWORDS, stmt, type BpfInstruction } from './bpf.js'
import { and, not, or, test, type Pred } from './cfg.js'
import { EtherType, type LinkLayer } from './link-layer.js'

/** The spanning tree protocol's LLC SAP (IEEE 802.1D). */
export const LLC_SAP_STP = 0x42
/** The largest 802.3 length field; a larger value is an EtherType (IEEE 802.3 clause 3.2.6). */
const MAX_8023_LENGTH = 1500
/** EtherTypes of PPPoE discovery and session stages (RFC 2516) and of MPLS unicast (RFC 3032). */
const ETHERTYPE_PPPOED = 0x8863
const ETHERTYPE_PPPOES = 0x8864
const ETHERTYPE_MPLS = 0x8847
/** Largest MPLS label (20 bits) and PPPoE session id (16 bits). */
const MAX_MPLS_LABEL = 0xfffff
const MAX_PPPOE_SESSION = 0xffff
/** The PPPoE header (6 bytes) and the PPP protocol field (2) before the payload. */
const PPPOE_HEADER = 6
/** Geneve (RFC 8926): UDP destination port 6081, an 8-byte base header, a 24-bit VNI. */
const GENEVE_PORT = 6081
const GENEVE_HEADER = 8
const MAX_GENEVE_VNI = 0xffffff
/** The UDP header's length, the IPv6 header's, and the protocol numbers tested. */
const UDP_HEADER = 8
const IPV6_HEADER = 40
const IPPROTO_UDP = 17
/** Transparent Ethernet bridging (RFC 1701): the Geneve payload is an Ethernet frame. */
const ETHERTYPE_TEB = 0x6558

/**
 * LLC control-field tests (IEEE 802.2 section 5.4): I frames have bit 0 clear, S and U frames
 * end in 01 and 11; S subtypes are the low 4 bits, U subtypes the bits under mask 0xef.
 */
const S_SUBTYPES: Record<string, number> = { rr: 0x01, rnr: 0x05, rej: 0x09 }
const U_SUBTYPES: Record<string, number> = { ui: 0x03, ua: 0x63, disc: 0x43, dm: 0x0f, sabme: 0x6f, test: 0xe3, xid: 0xaf, frmr: 0x87 }

/** The test for one encapsulation primitive; `pppoes`, `mpls` and `geneve` also move `link` on. */
export function encapsulation(link: LinkLayer, what: 'mpls' | 'pppoes' | 'pppoed' | 'llc' | 'geneve', id: number | undefined, sub: string | undefined): Pred {
  switch (what) {
    case 'geneve': return geneve(link, id)
    case 'llc': return llc(link, sub)
    case 'pppoed': return link.linkProto(ETHERTYPE_PPPOED)
    case 'pppoes': {
      if (id !== undefined && id > MAX_PPPOE_SESSION) throw new FilterSyntaxError(`PPPoE session number ${id} greater than maximum ${MAX_PPPOE_SESSION}`)
      let p = link.linkProto(ETHERTYPE_PPPOES)
      if (id !== undefined) p = and(p, test([...link.ldNet(BPF.W, 0), stmt(BPF.ALU | BPF.AND | BPF.K, 0xffff)], BPF.JEQ, id))
      link.offLinkType = link.offNet + PPPOE_HEADER
      link.offNet += PPPOE_HEADER + 2
      link.pppInside = true
      return p
    }
    case 'mpls': {
      if (id !== undefined && id > MAX_MPLS_LABEL) throw new FilterSyntaxError(`MPLS label ${id} greater than maximum ${MAX_MPLS_LABEL}`)
      let p: Pred
      if (link.mplsDepth > 0) {
        // Another label follows only if the one before is not the bottom of the stack.
        p = not(test(link.ldNet(BPF.B, -2), BPF.JSET, 1))
      } else {
        if (link.linkType !== LinkType.EN10MB && !link.pppInside) throw new FilterSyntaxError(`no MPLS support for link type ${linkTypeName(link.linkType)}`)
        p = link.linkProto(ETHERTYPE_MPLS)
      }
      if (id !== undefined) p = and(p, test([...link.ldNet(BPF.W, 0), stmt(BPF.ALU | BPF.AND | BPF.K, 0xfffff000)], BPF.JEQ, (id << 12) >>> 0))
      link.offNet += 4
      link.mplsDepth++
      return p
    }
  }
}

/**
 * `geneve [vni]`: UDP to port 6081 over IPv4 (not a later fragment) or IPv6 (UDP the next
 * header), Geneve version 0, and the VNI if given (gencode.c's gen_geneve). Where it matches,
 * the program then computes where the inner frame is, into three scratch registers kept for
 * the rest of the expression: the Geneve protocol type's offset (an EtherType), the end of the
 * Geneve header with its options, and the inner network header: the end of the header, or 14
 * bytes past it when the payload is an Ethernet frame (protocol type 0x6558), whose EtherType
 * then replaces the protocol type. What follows reads the inner frame, as if Ethernet.
 *
 * The blocks that compute the registers are not self-contained (each depends on the registers
 * the one before left), so the expression is not optimized, as libpcap does not optimize it.
 */
function geneve(link: LinkLayer, vni: number | undefined): Pred {
  if (vni !== undefined && vni > MAX_GENEVE_VNI) throw new FilterSyntaxError(`Geneve VNI ${vni} greater than maximum ${MAX_GENEVE_VNI}`)
  const [regLinkType, regLinkHdr, regNet] = [reserve(link), reserve(link), reserve(link)]
  const jeqX = (stmts: BpfInstruction[]): Pred => test(stmts, BPF.JEQ, 0, true)
  // Loads of the Geneve header (past the UDP header) over IPv4 and IPv6.
  const v4Udp = (size: number, k: number): BpfInstruction[] => [...link.ipHeaderLenX(), stmt(BPF.LD | size | BPF.IND, link.offNet + UDP_HEADER + k)]
  const v6Udp = (size: number, k: number): BpfInstruction[] => link.ldNet(size, IPV6_HEADER + UDP_HEADER + k)
  // Version 0 (the top 2 bits of byte 0), and the VNI in the top 24 bits of bytes 4-7.
  const check = (at: (size: number, k: number) => BpfInstruction[]): Pred => {
    const p = test([...at(BPF.B, 0), stmt(BPF.ALU | BPF.AND | BPF.K, 0xc0)], BPF.JEQ, 0)
    if (vni === undefined) return p
    return and(p, test([...at(BPF.W, 4), stmt(BPF.ALU | BPF.AND | BPF.K, 0xffffff00)], BPF.JEQ, (vni << 8) >>> 0))
  }
  const v4Port = and(and(and(link.linkProto(EtherType.IP), test(link.ldNet(BPF.B, 9), BPF.JEQ, IPPROTO_UDP)), not(test(link.ldNet(BPF.H, 6), BPF.JSET, 0x1fff))),
    test([...link.ipHeaderLenX(), stmt(BPF.LD | BPF.H | BPF.IND, link.offNet + 2)], BPF.JEQ, GENEVE_PORT))
  // Each way leaves the IP header's length in A (with the variable part of its offset, if any).
  const v4 = and(and(v4Port, check(v4Udp)), jeqX([...link.ipHeaderLenX(), stmt(BPF.MISC | BPF.TXA)]))
  const v6Port = and(and(link.linkProto(EtherType.IP6), test(link.ldNet(BPF.B, 6), BPF.JEQ, IPPROTO_UDP)), test(link.ldNet(BPF.H, IPV6_HEADER + 2), BPF.JEQ, GENEVE_PORT))
  const v6Len = link.regNet === undefined ? [stmt(BPF.LD | BPF.IMM, IPV6_HEADER)]
    : [stmt(BPF.LDX | BPF.MEM, link.regNet), stmt(BPF.LD | BPF.IMM, IPV6_HEADER), stmt(BPF.ALU | BPF.ADD | BPF.X)]
  const v6 = and(and(v6Port, check(v6Udp)), jeqX([...v6Len, stmt(BPF.MISC | BPF.TAX)]))
  // One always-true block computes the registers (libpcap's gen_geneve_offsets): X = the Geneve
  // header; M[linktype] = its protocol type; M[linkhdr] = the header's end (options included);
  // for an Ethernet payload, M[linktype] = its EtherType and X = 14 bytes on; M[net] = X. The
  // jump inside the block skips the Ethernet case (its targets stay inside the block).
  const ether = [stmt(BPF.MISC | BPF.TXA), stmt(BPF.ALU | BPF.ADD | BPF.K, 12), stmt(BPF.ST, regLinkType),
    stmt(BPF.ALU | BPF.ADD | BPF.K, 2), stmt(BPF.MISC | BPF.TAX)]
  const offsets = test([
    stmt(BPF.ALU | BPF.ADD | BPF.K, link.offNet + UDP_HEADER), stmt(BPF.MISC | BPF.TAX),
    stmt(BPF.ALU | BPF.ADD | BPF.K, 2), stmt(BPF.ST, regLinkType),
    stmt(BPF.LD | BPF.B | BPF.IND, 0), stmt(BPF.ALU | BPF.AND | BPF.K, 0x3f), stmt(BPF.ALU | BPF.MUL | BPF.K, 4),
    stmt(BPF.ALU | BPF.ADD | BPF.K, GENEVE_HEADER), stmt(BPF.ALU | BPF.ADD | BPF.X), stmt(BPF.ST, regLinkHdr),
    stmt(BPF.LD | BPF.H | BPF.IND, 2), stmt(BPF.LDX | BPF.MEM, regLinkHdr),
    { code: BPF.JMP | BPF.JEQ | BPF.K, jt: 0, jf: ether.length, k: ETHERTYPE_TEB }, ...ether,
    stmt(BPF.STX, regNet), stmt(BPF.LD | BPF.IMM, 0),
  ], BPF.JEQ, 0)
  link.linkType = LinkType.EN10MB
  link.isEthernet = true
  link.pppInside = false
  link.offLinkType = 0
  link.offLinkHdr = 0
  link.offNet = 0
  link.regLinkType = regLinkType
  link.regLinkHdr = regLinkHdr
  link.regNet = regNet
  link.optimizable = false
  return and(or(v4, v6), offsets)
}

/** Takes a scratch register for the rest of the expression (libpcap's alloc_reg). */
function reserve(link: LinkLayer): number {
  if (link.reservedMem >= BPF_MEMWORDS) throw new FilterSyntaxError('too many registers needed to evaluate expression')
  return link.reservedMem++
}

/** `llc` and its subtypes: an 802.3 frame (a length, not an EtherType) that is not Novell's raw 802.3. */
function llc(link: LinkLayer, sub: string | undefined): Pred {
  if (link.linkType !== LinkType.EN10MB) throw new FilterSyntaxError(`'llc' not supported for ${linkTypeName(link.linkType)}`)
  const is8022 = and(not(test(link.ldLinkType(BPF.H), BPF.JGT, MAX_8023_LENGTH)), not(test(link.ldNet(BPF.H, 0), BPF.JEQ, 0xffff)))
  if (sub === undefined) return is8022
  const control = (): BpfInstruction[] => link.ldNet(BPF.B, 2)
  const masked = (mask: number, v: number): Pred => test([...control(), stmt(BPF.ALU | BPF.AND | BPF.K, mask)], BPF.JEQ, v)
  if (sub === 'i') return and(is8022, not(test(control(), BPF.JSET, 1)))
  if (sub === 's') return and(is8022, masked(3, 1))
  if (sub === 'u') return and(is8022, masked(3, 3))
  if (sub in S_SUBTYPES) return and(is8022, masked(0x0f, S_SUBTYPES[sub]))
  if (sub in U_SUBTYPES) return and(is8022, masked(0xef, U_SUBTYPES[sub]))
  throw new FilterSyntaxError(`unknown 802.2 LLC subtype '${sub}'`)
}
