/**
 * `protochain N` (pcap-filter(7)): IPv4 or IPv6 whose chain of headers holds protocol N, as
 * libpcap 1.10's gen_protochain compiles it: starting from the IP header's protocol, a loop
 * steps over IPv6 extension headers (hop-by-hop, destination options, routing, fragment: RFC
 * 8200 section 4, length in 8-byte units past the first 8) and AH (RFC 4302, length in 4-byte
 * units past the first 8), until the protocol is N, or no next header (59), or another one.
 * libpcap's AH step sets X to the AH length rather than adding it to the offset; netkit
 * computes the same, so both select the same packets.
 *
 * The loop is a backward `ja`, which classic BPF in the kernel refuses (filter.rst: jumps go
 * forward) and libpcap's own interpreter takes (it sign-extends ja's k). So a program with it
 * is for files only, it is not optimized (libpcap does not optimize it either), and the JIT
 * bounds how often it loops (jit.ts).
 */
import { FilterSyntaxError } from '../errors.js'
import { BPF, stmt, type BpfInstruction } from './bpf.js'
import { and, or, test, type Pred } from './cfg.js'
import { EtherType, type LinkLayer } from './link-layer.js'

/** IPv6 extension headers the loop steps over (RFC 8200 section 4.1), and the ends of the chain. */
const IPPROTO_HOPOPTS = 0
const IPPROTO_ROUTING = 43
const IPPROTO_FRAGMENT = 44
const IPPROTO_DSTOPTS = 60
const IPPROTO_NONE = 59
const IPPROTO_AH = 51
const IPV6_HEADER = 40

/** The test for `[ip|ip6] protochain v`; `proto` undefined means either (IPv4 first). */
export function protochain(link: LinkLayer, proto: 'ip' | 'ip6' | undefined, v: number): Pred {
  if (link.live) throw new FilterSyntaxError("'protochain' loops over the IP header chain with a backward jump, which the kernel's BPF refuses; capture to a file and filter it with 'netkit read'")
  if (link.regNet !== undefined) throw new FilterSyntaxError("'protochain' not supported with variable length headers")
  if (proto === undefined) {
    // libpcap takes a register here that it never gives back (the programs name M[1], not M[0]).
    link.reservedMem++
    const four = protochain(link, 'ip', v)
    return or(four, protochain(link, 'ip6', v))
  }
  link.optimizable = false
  link.backwardJumps = true
  const reg = link.reservedMem
  const net = link.offNet
  const jeq = (k: number): BpfInstruction => ({ code: BPF.JMP | BPF.JEQ | BPF.K, jt: 0, jf: 0, k })
  const ja = (): BpfInstruction => ({ code: BPF.JMP | BPF.JA, jt: 0, jf: 0, k: 0 })
  // Built as a list, then the jumps are pointed at their labels (relative offsets inside the block).
  const s: BpfInstruction[] = []
  const head = proto === 'ip'
    ? [stmt(BPF.LD | BPF.B | BPF.ABS, net + 9), stmt(BPF.LDX | BPF.B | BPF.MSH, net)]
    : [stmt(BPF.LD | BPF.B | BPF.ABS, net + 6), stmt(BPF.LDX | BPF.IMM, IPV6_HEADER)]
  s.push(...head)
  const again = s.push(jeq(v)) - 1
  const none = s.push(jeq(IPPROTO_NONE)) - 1
  const toEnd: number[] = [again, none]
  let extStart = -1
  let fragment = -1
  let nop = -1
  if (proto === 'ip6') {
    extStart = s.length
    for (const p of [IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING]) s.push(jeq(p))
    fragment = s.push(jeq(IPPROTO_FRAGMENT)) - 1
  } else {
    nop = s.push(stmt(BPF.ALU | BPF.ADD | BPF.K, 0)) - 1
  }
  // v6advance: A = next header; X += (length + 1) * 8; again.
  const advance = s.length
  let backFromExt = -1
  if (proto === 'ip6') {
    s.push(stmt(BPF.LD | BPF.B | BPF.IND, net), stmt(BPF.ST, reg), stmt(BPF.LD | BPF.B | BPF.IND, net + 1), stmt(BPF.ALU | BPF.ADD | BPF.K, 1),
      stmt(BPF.ALU | BPF.MUL | BPF.K, 8), stmt(BPF.ALU | BPF.ADD | BPF.X), stmt(BPF.MISC | BPF.TAX), stmt(BPF.LD | BPF.MEM, reg))
    backFromExt = s.push(ja()) - 1
  }
  // ahcheck: A = next header; X = (length + 2) * 4 (sic); again.
  const ah = s.push(jeq(IPPROTO_AH)) - 1
  s.push(stmt(BPF.MISC | BPF.TXA), stmt(BPF.LD | BPF.B | BPF.IND, net), stmt(BPF.ST, reg), stmt(BPF.MISC | BPF.TXA), stmt(BPF.ALU | BPF.ADD | BPF.K, 1),
    stmt(BPF.MISC | BPF.TAX), stmt(BPF.LD | BPF.B | BPF.IND, net), stmt(BPF.ALU | BPF.ADD | BPF.K, 2), stmt(BPF.ALU | BPF.MUL | BPF.K, 4),
    stmt(BPF.MISC | BPF.TAX), stmt(BPF.LD | BPF.MEM, reg))
  const backFromAh = s.push(ja()) - 1
  const end = s.push(stmt(BPF.ALU | BPF.ADD | BPF.K, 0)) - 1
  // Relative targets: from instruction i, a jump to j is j - i - 1.
  const rel = (from: number, to: number): number => to - from - 1
  for (const i of toEnd) s[i].jt = rel(i, end)
  s[again].jf = 0
  s[none].jf = 0
  if (proto === 'ip6') {
    for (let i = extStart; i <= fragment; i++) { s[i].jt = rel(i, advance); s[i].jf = 0 }
    s[fragment].jf = rel(fragment, ah)
    s[backFromExt].k = rel(backFromExt, again) >>> 0
  }
  s[ah].jt = 0
  s[ah].jf = rel(ah, end)
  s[backFromAh].k = rel(backFromAh, again) >>> 0
  void nop
  return and(link.linkProto(proto === 'ip' ? EtherType.IP : EtherType.IP6), test(s, BPF.JEQ, v))
}
