/**
 * Link-layer knowledge for the code generator: where the network header starts and how to test
 * the network protocol, per link type (libpcap's gen_linktype and init_linktype). Ethernet and
 * Linux cooked headers carry an EtherType; RAW carries bare IP (test the version nibble); NULL
 * and LOOP carry an address family (NULL in the capturing host's byte order).
 */
import { FilterSyntaxError } from '../errors.js'
import { LinkType, linkTypeName } from '../pcap/link-types.js'
import { BPF, stmt } from './bpf.js'
import { and, never, not, or, test, type Pred } from './cfg.js'

/** The EtherTypes the generator tests. */
export const EtherType = { IP: 0x0800, IP6: 0x86dd, ARP: 0x0806, RARP: 0x8035 } as const

/** Where things are for one link type, plus the shift `vlan` adds for what follows it. */
export class LinkLayer {
  /** Offset of the EtherType field, or undefined when the link type has none. */
  offLinkType: number | undefined
  /** MPLS labels `mpls` has stepped over: the network protocol is then read from the IP version. */
  mplsDepth = 0
  /** After `pppoes`: the protocol field is PPP's (RFC 2516 section 4), at offLinkType. */
  pppInside = false
  /** Offset of the network-layer header. */
  offNet: number
  /** True when the link type has Ethernet addresses at offsets 0 and 6. */
  readonly isEthernet: boolean

  constructor(readonly linkType: number, readonly live: boolean, readonly nullSwapped: boolean) {
    switch (linkType) {
      case LinkType.EN10MB: this.offLinkType = 12; this.offNet = 14; break
      case LinkType.LINUX_SLL: this.offLinkType = 14; this.offNet = 16; break
      case LinkType.LINUX_SLL2: this.offLinkType = 0; this.offNet = 20; break
      case LinkType.NULL: case LinkType.LOOP: this.offLinkType = undefined; this.offNet = 4; break
      // PPP in HDLC-like framing (address, control, then a 2-byte protocol), and Cisco HDLC
      // (address, control, then an EtherType): libpcap's init_linktype.
      case LinkType.PPP: case LinkType.PPP_HDLC: case LinkType.C_HDLC: this.offLinkType = 2; this.offNet = 4; break
      case LinkType.RAW: case LinkType.IPV4: case LinkType.IPV6: this.offLinkType = undefined; this.offNet = 0; break
      default: throw new FilterSyntaxError(`link type ${linkTypeName(linkType)} is not supported by the filter compiler (supported: EN10MB, LINUX_SLL, LINUX_SLL2, RAW, NULL, LOOP)`)
    }
    this.isEthernet = linkType === LinkType.EN10MB
  }

  /** A test that the network protocol is `etherType` (libpcap's gen_linktype). */
  linkProto(etherType: number): Pred {
    if (this.mplsDepth > 0) {
      // Under an MPLS label stack (RFC 3032): the last label has the bottom-of-stack bit, and the
      // payload's protocol is known only from its first nibble (libpcap's gen_mpls_linktype).
      const version = etherType === EtherType.IP ? 0x40 : etherType === EtherType.IP6 ? 0x60 : -1
      if (version < 0) throw new FilterSyntaxError('unsupported protocol over mpls')
      const bottom = test([stmt(BPF.LD | BPF.B | BPF.ABS, this.offNet - 2), stmt(BPF.ALU | BPF.AND | BPF.K, 1)], BPF.JEQ, 1)
      return and(bottom, test([stmt(BPF.LD | BPF.B | BPF.ABS, this.offNet), stmt(BPF.ALU | BPF.AND | BPF.K, 0xf0)], BPF.JEQ, version))
    }
    if (this.pppInside || this.linkType === LinkType.PPP || this.linkType === LinkType.PPP_HDLC) {
      // PPP protocol numbers (RFC 1661, assigned numbers) for the EtherTypes that have one.
      const ppp = ({ [EtherType.IP]: 0x0021, [EtherType.IP6]: 0x0057, 0x8847: 0x0281 } as Record<number, number>)[etherType] ?? etherType
      return test([stmt(BPF.LD | BPF.H | BPF.ABS, this.offLinkType!)], BPF.JEQ, ppp)
    }
    if (this.offLinkType !== undefined) {
      const ld = stmt(BPF.LD | BPF.H | BPF.ABS, this.offLinkType)
      if (etherType <= 1500 && this.linkType === LinkType.EN10MB) {
        // An 802.3 length field, not an EtherType: match the LLC DSAP like libpcap does.
        return and(not(test([ld], BPF.JGT, 1500)), test([stmt(BPF.LD | BPF.B | BPF.ABS, this.offNet)], BPF.JEQ, etherType))
      }
      return test([ld], BPF.JEQ, etherType)
    }
    const version = (v: number): Pred => test([stmt(BPF.LD | BPF.B | BPF.ABS, 0), stmt(BPF.ALU | BPF.AND | BPF.K, 0xf0)], BPF.JEQ, v)
    switch (this.linkType) {
      case LinkType.RAW:
        if (etherType === EtherType.IP) return version(0x40)
        if (etherType === EtherType.IP6) return version(0x60)
        return never()
      case LinkType.IPV4: return etherType === EtherType.IP ? test([stmt(BPF.LD | BPF.IMM, 0)], BPF.JEQ, 0) : never()
      case LinkType.IPV6: return etherType === EtherType.IP6 ? test([stmt(BPF.LD | BPF.IMM, 0)], BPF.JEQ, 0) : never()
      default: {
        // NULL/LOOP: an address family word. BSDs disagree on AF_INET6 (24, 28, 30).
        const fam = (af: number): Pred => {
          const v = this.linkType === LinkType.NULL && this.nullSwapped ? swap32(af) : af
          return test([stmt(BPF.LD | BPF.W | BPF.ABS, 0)], BPF.JEQ, v)
        }
        if (etherType === EtherType.IP) return fam(2)
        if (etherType === EtherType.IP6) return or(or(fam(24), fam(28)), fam(30))
        return never()
      }
    }
  }
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0
}
