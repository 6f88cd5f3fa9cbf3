/**
 * The encapsulation primitives of pcap-filter(7): `llc [subtype]`, `pppoed`, `pppoes [session]`
 * and `mpls [label]`, compiled as libpcap 1.10's gencode.c compiles them. `pppoes` and `mpls`
 * change the link layer for everything after them in the expression (libpcap's documented
 * behaviour, like `vlan`): after `pppoes` the protocol is PPP's, 8 bytes further in; each `mpls`
 * steps over one 4-byte label.
 */
import { FilterSyntaxError } from '../errors.js'
import { LinkType, linkTypeName } from '../pcap/link-types.js'
import { BPF, stmt } from './bpf.js'
import { and, not, test, type Pred } from './cfg.js'
import type { LinkLayer } from './link-layer.js'

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

/**
 * LLC control-field tests (IEEE 802.2 section 5.4): I frames have bit 0 clear, S and U frames
 * end in 01 and 11; S subtypes are the low 4 bits, U subtypes the bits under mask 0xef.
 */
const S_SUBTYPES: Record<string, number> = { rr: 0x01, rnr: 0x05, rej: 0x09 }
const U_SUBTYPES: Record<string, number> = { ui: 0x03, ua: 0x63, disc: 0x43, dm: 0x0f, sabme: 0x6f, test: 0xe3, xid: 0xaf, frmr: 0x87 }

const ld = (size: number, off: number) => stmt(BPF.LD | size | BPF.ABS, off)

/** The test for one encapsulation primitive; `pppoes` and `mpls` also move `link` on. */
export function encapsulation(link: LinkLayer, what: 'mpls' | 'pppoes' | 'pppoed' | 'llc', id: number | undefined, sub: string | undefined): Pred {
  switch (what) {
    case 'llc': return llc(link, sub)
    case 'pppoed': return link.linkProto(ETHERTYPE_PPPOED)
    case 'pppoes': {
      if (id !== undefined && id > MAX_PPPOE_SESSION) throw new FilterSyntaxError(`PPPoE session number ${id} greater than maximum ${MAX_PPPOE_SESSION}`)
      let p = link.linkProto(ETHERTYPE_PPPOES)
      if (id !== undefined) p = and(p, test([ld(BPF.W, link.offNet), stmt(BPF.ALU | BPF.AND | BPF.K, 0xffff)], BPF.JEQ, id))
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
        p = not(test([ld(BPF.B, link.offNet - 2)], BPF.JSET, 1))
      } else {
        if (link.linkType !== LinkType.EN10MB && !link.pppInside) throw new FilterSyntaxError(`no MPLS support for link type ${linkTypeName(link.linkType)}`)
        p = link.linkProto(ETHERTYPE_MPLS)
      }
      if (id !== undefined) p = and(p, test([ld(BPF.W, link.offNet), stmt(BPF.ALU | BPF.AND | BPF.K, 0xfffff000)], BPF.JEQ, (id << 12) >>> 0))
      link.offNet += 4
      link.mplsDepth++
      return p
    }
  }
}

/** `llc` and its subtypes: an 802.3 frame (a length, not an EtherType) that is not Novell's raw 802.3. */
function llc(link: LinkLayer, sub: string | undefined): Pred {
  if (link.linkType !== LinkType.EN10MB) throw new FilterSyntaxError(`'llc' not supported for ${linkTypeName(link.linkType)}`)
  const off = link.offLinkType!
  const is8022 = and(not(test([ld(BPF.H, off)], BPF.JGT, MAX_8023_LENGTH)), not(test([ld(BPF.H, link.offNet)], BPF.JEQ, 0xffff)))
  if (sub === undefined) return is8022
  const control = link.offNet + 2
  const masked = (mask: number, v: number): Pred => test([ld(BPF.B, control), stmt(BPF.ALU | BPF.AND | BPF.K, mask)], BPF.JEQ, v)
  if (sub === 'i') return and(is8022, not(test([ld(BPF.B, control)], BPF.JSET, 1)))
  if (sub === 's') return and(is8022, masked(3, 1))
  if (sub === 'u') return and(is8022, masked(3, 3))
  if (sub in S_SUBTYPES) return and(is8022, masked(0x0f, S_SUBTYPES[sub]))
  if (sub in U_SUBTYPES) return and(is8022, masked(0xef, U_SUBTYPES[sub]))
  throw new FilterSyntaxError(`unknown 802.2 LLC subtype '${sub}'`)
}
