/**
 * Filters on a cooked socket (`-i any`, and devices without an Ethernet header). The filter is
 * compiled for LINUX_SLL2, whose 20-byte header netkit writes in front of each packet, but the
 * kernel runs the program on a SOCK_DGRAM socket's data, which starts at the network header and
 * has no such header. As libpcap does (pcap-linux.c, fix_program), packet loads are moved back by
 * the header's length, and loads of its fields become the kernel's ancillary loads of the same
 * facts: the protocol (bytes 0-1), the interface index (4-7) and the packet type (10). The value a
 * program returns is a snap length that counts the header, so it shrinks by 20 as well.
 */
import { InvalidArgumentError } from '../errors.js'
import { BPF, SKF_AD_OFF, SkfAd, bpfClass, bpfMode, type BpfInstruction } from '../filter/bpf.js'

/** The LINUX_SLL2 header netkit puts before each packet of a cooked capture. */
export const SLL2_HEADER_BYTES = 20

/** The program as the kernel must run it on a cooked socket. Throws when it reads a header field the kernel cannot provide. */
export function cookedProgram(program: readonly BpfInstruction[]): BpfInstruction[] {
  return program.map((insn) => {
    const cls = bpfClass(insn.code)
    if (cls === BPF.RET && bpfMode(insn.code) === 0 && (insn.code & 0x18) === BPF.K) {
      // RET K: keep k bytes. 0 rejects; otherwise the header is not the kernel's to count.
      return insn.k === 0 ? insn : { ...insn, k: Math.max(1, insn.k - SLL2_HEADER_BYTES) }
    }
    if (cls !== BPF.LD && cls !== BPF.LDX) return insn
    const mode = bpfMode(insn.code)
    if (mode !== BPF.ABS && mode !== BPF.IND && mode !== BPF.MSH) return insn
    const k = insn.k | 0
    if (k < 0 && k >= SKF_AD_OFF) return insn // already an ancillary load
    if (k >= SLL2_HEADER_BYTES) return { ...insn, k: k - SLL2_HEADER_BYTES }
    if (mode === BPF.ABS && cls === BPF.LD) {
      if (k === 0) return { ...insn, k: SKF_AD_OFF + SkfAd.PROTOCOL }
      if (k === 4) return { ...insn, k: SKF_AD_OFF + SkfAd.IFINDEX }
      if (k === 10) return { ...insn, k: SKF_AD_OFF + SkfAd.PKTTYPE }
    }
    throw new InvalidArgumentError(`the filter reads byte ${k} of the cooked (LINUX_SLL2) header, which the kernel cannot test on this interface`)
  })
}
