/**
 * netkit's pcap-filter(7) compiler: `compileFilter(expr, { linkType, live })` turns a tcpdump
 * filter expression into a classic BPF program (for the kernel's SO_ATTACH_FILTER, or for
 * `netkit filter -d`) and a compiled matcher for packets read from files.
 */
import { FilterSyntaxError } from '../errors.js'
import { LinkType } from '../pcap/link-types.js'
import type { RecordBatch } from '../pcap/record-batch.js'
import { BPF, stmt, type BpfInstruction } from './bpf.js'
import { finish } from './cfg.js'
import { generate } from './codegen.js'
import { jit, type CompiledFilter } from './jit.js'
import { optimize } from './optimizer.js'
import { isLocated } from './lexer.js'
import { parseFilter } from './parser.js'
import { layout, validateProgram } from './program.js'

export type { BpfInstruction } from './bpf.js'
export { encodeProgram } from './bpf.js'
export { BatchFilter } from './batch-filter.js'
export type { CompiledFilter } from './jit.js'
export { formatProgram, formatProgramC, formatProgramDecimal } from './disasm.js'
export { jit } from './jit.js'

/** Options of compileFilter. */
export interface CompileOptions {
  /** LINKTYPE_* of the packets (EN10MB, LINUX_SLL, LINUX_SLL2, RAW, NULL, LOOP, IPV4, IPV6). */
  linkType: number
  /** Code for the kernel on a live socket (ancillary VLAN/packet-type loads) instead of for files. */
  live?: boolean
  /** Bytes to accept per packet (the RET value); tcpdump uses the snapshot length, 262144 by default. */
  snaplen?: number
  /** Run the optimizer (default true; tcpdump -O turns it off). */
  optimize?: boolean
  /** NULL link type: the family word is little-endian (the file's byte order); default true. */
  nullSwapped?: boolean
}

/** A compiled filter. */
export interface CompiledProgram {
  /** The classic BPF program: pass to SO_ATTACH_FILTER as a `struct sock_fprog`. */
  program: BpfInstruction[]
  /** The program as a JavaScript function: RET value for one packet (0 = drop). */
  filter: CompiledFilter
  /** True when the packet at data[offset, offset+capLen) with wire length wireLen matches. */
  match(data: Uint8Array, offset: number, capLen: number, wireLen: number): boolean
  /** Sets select[i] to 1 for each packet of the batch that matches, 0 otherwise; returns how many matched. */
  matchBatch(batch: RecordBatch, select: Uint8Array): number
}

/** The snapshot length tcpdump uses when none is given (MAXIMUM_SNAPLEN). */
export const DEFAULT_SNAPLEN = 262144

/** Compiles a filter expression (the words joined by spaces, as tcpdump does) to BPF. */
export function compileFilter(expr: string, options: CompileOptions): CompiledProgram {
  const snaplen = options.snaplen ?? DEFAULT_SNAPLEN
  let program: BpfInstruction[]
  let backward = false
  if (expr.trim() === '') {
    program = [stmt(BPF.RET | BPF.K, snaplen)]
  } else {
    const ast = parseFilter(expr)
    let generated
    try {
      generated = generate(ast, { linkType: options.linkType, live: options.live ?? false, nullSwapped: options.nullSwapped ?? (options.linkType === LinkType.NULL) }, expr)
    } catch (err) {
      // Errors about the link type rather than a word of the expression.
      if (err instanceof FilterSyntaxError && !isLocated(err)) throw new FilterSyntaxError(`filter: ${err.message}`)
      if (err instanceof RangeError) throw new FilterSyntaxError('filter: expression too complex')
      throw err
    }
    let root = finish(generated.pred, snaplen)
    const optimized = (options.optimize ?? true) && generated.optimizable
    if (optimized) {
      root = optimize(root)
      // libpcap refuses such a program too ("expression rejects all packets").
      if (root.ret === 0) throw new FilterSyntaxError('filter: expression rejects all packets')
    }
    program = located(() => layout(root, optimized))
    backward = generated.backwardJumps
    // The kernel refuses a program that may read a scratch word before writing it
    // (bpf_check_classic's check_load_and_stores), as `geneve or arp` does where geneve did not
    // match; zeroed first, the words read as the JIT's do for files (they start at 0).
    if (options.live && generated.registers > 0) {
      const zero = Array.from({ length: generated.registers }, (_, k) => stmt(BPF.ST, k))
      program = [stmt(BPF.LD | BPF.IMM, 0), ...zero, ...program]
    }
  }
  located(() => validateProgram(program, backward))
  return programFilter(program)
}

/** Runs a stage whose errors concern the whole program: they get the `filter: ` prefix. */
function located<T>(stage: () => T): T {
  try {
    return stage()
  } catch (err) {
    if (err instanceof FilterSyntaxError && !isLocated(err)) throw new FilterSyntaxError(`filter: ${err.message}`)
    throw err
  }
}

/** Wraps an existing program (e.g. from compileFilter or a -ddd dump) with its matchers. */
export function programFilter(program: BpfInstruction[]): CompiledProgram {
  const filter = jit(program)
  return {
    program,
    filter,
    match: (data, offset, capLen, wireLen) => filter(data, offset, capLen, wireLen) !== 0,
    matchBatch(batch, select) {
      const { data, offset, capLen, origLen, kind } = batch
      let n = 0
      for (let i = 0; i < batch.count; i++) {
        const ok = kind[i] === 0 && filter(data, offset[i], capLen[i], origLen[i]) !== 0 ? 1 : 0
        select[i] = ok
        n += ok
      }
      return n
    },
  }
}
