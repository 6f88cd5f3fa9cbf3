/**
 * Link-layer knowledge for the code generator: where the network header starts and how to test
 * the network protocol, per link type (libpcap's gen_linktype and init_linktype). Ethernet and
 * Linux cooked headers carry an EtherType; RAW carries bare IP (test the version nibble); NULL
 * and LOOP carry an address family (NULL in the capturing host's byte order).
 */
import { FilterSyntaxError } from '../errors.js'
import { LinkType, linkTypeName } from '../pcap/link-types.js'
import { BPF, stmt, type BpfInstruction } from './bpf.js'
import { and, never, not, or, test, type Pred } from './cfg.js'

/** The EtherTypes the generator tests. */
export const EtherType = { IP: 0x0800, IP6: 0x86dd, ARP: 0x0806, RARP: 0x8035 } as const

/**
 * Where things are for one link type, plus the shift `vlan` adds for what follows it. After
 * `geneve` the inner frame's headers are at offsets only known per packet: each then has a
 * scratch-memory register holding its variable part (libpcap's bpf_abs_offset), and the
 * offsets here are the constant parts added to it.
 */
export class LinkLayer {
  /** Offset of the EtherType field, or undefined when the link type has none. */
  offLinkType: number | undefined
  /** MPLS labels `mpls` has stepped over: the network protocol is then read from the IP version. */
  mplsDepth = 0
  /** After `pppoes`: the protocol field is PPP's (RFC 2516 section 4), at offLinkType. */
  pppInside = false
  /** Offset of the network-layer header. */
  offNet: number
  /** Offset of the link-layer header (the MAC addresses): 0, or the inner frame's after `geneve`. */
  offLinkHdr = 0
  /** The scratch registers holding the variable parts of offLinkType, offNet and offLinkHdr (after `geneve`). */
  regLinkType: number | undefined
  regNet: number | undefined
  regLinkHdr: number | undefined
  /** True when the link type has Ethernet addresses at offsets 0 and 6. */
  isEthernet: boolean
  /** Scratch registers M[0..reservedMem) hold offsets for the rest of the expression (after `geneve`). */
  reservedMem = 0
  /** False once the program depends on registers set by earlier blocks (`geneve`): the optimizer assumes it does not. */
  optimizable = true
  /** True once the program loops with a backward jump (`protochain`): for files only, not the kernel. */
  backwardJumps = false

  constructor(public linkType: number, readonly live: boolean, readonly nullSwapped: boolean) {
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

  /** Loads `size` bytes at `k` past `off`, absolute, or past the value of register `reg` (gen_load_absoffsetrel). */
  private static at(reg: number | undefined, off: number, size: number, k: number): BpfInstruction[] {
    if (reg === undefined) return [stmt(BPF.LD | size | BPF.ABS, off + k)]
    return [stmt(BPF.LDX | BPF.MEM, reg), stmt(BPF.LD | size | BPF.IND, off + k)]
  }

  /** Loads `size` bytes at `k` into the network-layer header. */
  ldNet(size: number, k: number): BpfInstruction[] { return LinkLayer.at(this.regNet, this.offNet, size, k) }
  /** Loads `size` bytes at `k` from the link-type field. */
  ldLinkType(size: number, k = 0): BpfInstruction[] { return LinkLayer.at(this.regLinkType, this.offLinkType!, size, k) }
  /** Loads `size` bytes at `k` into the link-layer header (`ether[k]`, MAC addresses). */
  ldLinkHdr(size: number, k: number): BpfInstruction[] { return LinkLayer.at(this.regLinkHdr, this.offLinkHdr, size, k) }

  /**
   * Sets X so that `ld [x + offNet + k]` reads byte k past an IPv4 header: 4*(IHL) with the
   * `ldxb 4*([k]&0xf)` mode, or, when the network header's offset is variable, the IHL times 4
   * plus that offset (the mode takes constants only; libpcap's gen_loadx_iphdrlen). Clobbers A then.
   */
  ipHeaderLenX(): BpfInstruction[] {
    if (this.regNet === undefined) return [stmt(BPF.LDX | BPF.B | BPF.MSH, this.offNet)]
    return [stmt(BPF.LDX | BPF.MEM, this.regNet), stmt(BPF.LD | BPF.B | BPF.IND, this.offNet), stmt(BPF.ALU | BPF.AND | BPF.K, 0xf),
      stmt(BPF.ALU | BPF.LSH | BPF.K, 2), stmt(BPF.ALU | BPF.ADD | BPF.X), stmt(BPF.MISC | BPF.TAX)]
  }

  /**
   * After `geneve`, a test that the inner frame has an Ethernet header (its network header is
   * not where the Geneve header ends; libpcap's gen_prevlinkhdr_check), needed before MAC
   * address tests; else undefined.
   */
  innerEthernet(): Pred | undefined {
    if (this.regLinkHdr === undefined || this.regNet === undefined) return undefined
    return not(test([stmt(BPF.LD | BPF.MEM, this.regLinkHdr), stmt(BPF.LDX | BPF.MEM, this.regNet)], BPF.JEQ, 0, true))
  }

  /** A test that the network protocol is `etherType` (libpcap's gen_linktype). */
  linkProto(etherType: number): Pred {
    if (this.mplsDepth > 0) {
      // Under an MPLS label stack (RFC 3032): the last label has the bottom-of-stack bit, and the
      // payload's protocol is known only from its first nibble (libpcap's gen_mpls_linktype).
      const version = etherType === EtherType.IP ? 0x40 : etherType === EtherType.IP6 ? 0x60 : -1
      if (version < 0) throw new FilterSyntaxError('unsupported protocol over mpls')
      const bottom = test([...this.ldNet(BPF.B, -2), stmt(BPF.ALU | BPF.AND | BPF.K, 1)], BPF.JEQ, 1)
      return and(bottom, test([...this.ldNet(BPF.B, 0), stmt(BPF.ALU | BPF.AND | BPF.K, 0xf0)], BPF.JEQ, version))
    }
    if (this.pppInside || this.linkType === LinkType.PPP || this.linkType === LinkType.PPP_HDLC) {
      // PPP protocol numbers (RFC 1661, assigned numbers) for the EtherTypes that have one.
      const ppp = ({ [EtherType.IP]: 0x0021, [EtherType.IP6]: 0x0057, 0x8847: 0x0281 } as Record<number, number>)[etherType] ?? etherType
      return test(this.ldLinkType(BPF.H), BPF.JEQ, ppp)
    }
    if (this.offLinkType !== undefined) {
      const ld = this.ldLinkType(BPF.H)
      if (etherType <= 1500 && this.linkType === LinkType.EN10MB) {
        // An 802.3 length field, not an EtherType: match the LLC DSAP like libpcap does.
        return and(not(test(ld, BPF.JGT, 1500)), test(this.ldNet(BPF.B, 0), BPF.JEQ, etherType))
      }
      return test(ld, BPF.JEQ, etherType)
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
