/**
 * Classic BPF: the instruction format and opcode constants shared by the compiler, the
 * disassembler, the interpreter and the kernel attach. See: linux/filter.h, bpf(4), and
 * Documentation/networking/filter.rst in the kernel tree.
 */

/** One classic BPF instruction (`struct sock_filter`). */
export interface BpfInstruction {
  code: number
  jt: number
  jf: number
  k: number
}

/** Opcode fields (linux/bpf_common.h). */
export const BPF = {
  LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07,
  W: 0x00, H: 0x08, B: 0x10,
  IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, LEN: 0x80, MSH: 0xa0,
  ADD: 0x00, SUB: 0x10, MUL: 0x20, DIV: 0x30, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70, NEG: 0x80, MOD: 0x90, XOR: 0xa0,
  JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40,
  K: 0x00, X: 0x08, A: 0x10,
  TAX: 0x00, TXA: 0x80,
} as const

/** Number of scratch memory words (BPF_MEMWORDS). */
export const BPF_MEMWORDS = 16
/** The kernel's limit on a classic program's length (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096

/** Ancillary loads: absolute loads at SKF_AD_OFF + n read skb metadata. See: linux/filter.h. */
export const SKF_AD_OFF = -0x1000
/** SKF_AD_* offsets netkit uses (linux/filter.h). */
export const SkfAd = {
  PROTOCOL: 0, PKTTYPE: 4, IFINDEX: 8, NLATTR: 12, NLATTR_NEST: 16, MARK: 20, QUEUE: 24, HATYPE: 28,
  RXHASH: 32, CPU: 36, ALU_XOR_X: 40, VLAN_TAG: 44, VLAN_TAG_PRESENT: 48, PAY_OFFSET: 52, RANDOM: 56,
  VLAN_TPID: 60,
} as const

export const bpfClass = (code: number): number => code & 0x07
export const bpfSize = (code: number): number => code & 0x18
export const bpfMode = (code: number): number => code & 0xe0
export const bpfOp = (code: number): number => code & 0xf0
export const bpfSrc = (code: number): number => code & 0x08

/** Makes a non-jump instruction. */
export function stmt(code: number, k = 0): BpfInstruction {
  return { code, jt: 0, jf: 0, k: k >>> 0 }
}

/**
 * The program as the kernel takes it: an array of `struct sock_filter` (u16 code, u8 jt, u8 jf,
 * u32 k, in host byte order; linux/filter.h), 8 bytes per instruction. Pass its address and
 * length as `struct sock_fprog` to setsockopt(SOL_SOCKET, SO_ATTACH_FILTER).
 */
export function encodeProgram(program: readonly BpfInstruction[]): Uint8Array {
  const bytes = new Uint8Array(program.length * 8)
  const view = new DataView(bytes.buffer)
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
  program.forEach((ins, i) => {
    view.setUint16(i * 8, ins.code, le)
    view.setUint8(i * 8 + 2, ins.jt)
    view.setUint8(i * 8 + 3, ins.jf)
    view.setUint32(i * 8 + 4, ins.k >>> 0, le)
  })
  return bytes
}
