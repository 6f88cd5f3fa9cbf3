/**
 * Lays the block graph out as a classic BPF program: blocks in an order where every jump goes
 * forward, loads of a value a register already holds on every path removed, conditional jumps
 * beyond 255 instructions routed through `ja`, and the kernel's rules checked (see
 * Documentation/networking/filter.rst: at most 4096 instructions, forward jumps, ends in RET).
 */
import { FilterSyntaxError } from '../errors.js'
import { BPF, BPF_MAXINSNS, bpfClass, bpfOp, stmt, type BpfInstruction } from './bpf.js'
import type { Block } from './cfg.js'
import { topoOrder } from './optimizer.js'
import { loadKey, step, unknownState, type RegState } from './symbolic.js'

/** Removes loads whose value a register holds on entry from every predecessor. */
function eliminateLoads(order: Block[]): Map<Block, BpfInstruction[]> {
  const exitState = new Map<Block, RegState>()
  const preds = new Map<Block, Block[]>()
  for (const b of order) for (const s of new Set([b.jt, b.jf])) if (s) preds.set(s, [...(preds.get(s) ?? []), b])
  const out = new Map<Block, BpfInstruction[]>()
  for (const b of order) {
    const ps = preds.get(b) ?? []
    const s = unknownState()
    if (ps.length > 0) {
      const first = exitState.get(ps[0])!
      s.a = ps.every((p) => exitState.get(p)!.a === first.a) ? first.a : undefined
      s.x = ps.every((p) => exitState.get(p)!.x === first.x) ? first.x : undefined
    }
    const kept: BpfInstruction[] = []
    for (const ins of b.stmts) {
      const cls = bpfClass(ins.code)
      const key = cls === BPF.LD || cls === BPF.LDX ? loadKey(ins, s) : undefined
      if (key !== undefined && ((cls === BPF.LD && s.a === key) || (cls === BPF.LDX && s.x === key))) continue
      kept.push(ins)
      step(ins, s)
    }
    // Scratch memory is per block; nothing known survives into the next.
    exitState.set(b, { a: s.a, x: s.x, mem: [] })
    out.set(b, kept)
  }
  return out
}

/**
 * Merges blocks that are the same once redundant loads are gone: same remaining statements,
 * same jump, same successors (the `jeq #443` that ends both the IPv4 and the IPv6 branch of
 * `port 80 or 443`). Safe without recomputing anything: each path reaches the merged block with
 * the registers it had before, which is all the remaining statements assumed, and the blocks
 * after it had both as predecessors already.
 */
function mergeResidual(root: Block, stmts: Map<Block, BpfInstruction[]>): void {
  const ids = new Map<Block, number>()
  const canon = new Map<string, Block>()
  const replace = new Map<Block, Block>()
  for (const b of topoOrder(root).reverse()) {
    if (b.jt) b.jt = replace.get(b.jt) ?? b.jt
    if (b.jf) b.jf = replace.get(b.jf) ?? b.jf
    const sig = b.ret !== undefined ? `ret ${b.ret}`
      : `${stmts.get(b)!.map((i) => `${i.code},${i.k}`).join(';')}|${b.jmp.code},${b.jmp.k}|${ids.get(b.jt!)}|${ids.get(b.jf!)}`
    const c = canon.get(sig)
    if (c && b !== root) { replace.set(b, c); continue }
    if (!c) canon.set(sig, b)
    ids.set(b, ids.size)
  }
}

/**
 * Turns a graph into instructions. With `optimized` false (a graph whose blocks depend on
 * registers earlier blocks set), blocks are laid out as they are, as libpcap does unoptimized.
 */
export function layout(root: Block, optimized = true): BpfInstruction[] {
  const byReturn = (list: Block[]): Block[] => {
    // Return blocks last, accept before reject, as libpcap lays them out.
    const rets = list.filter((b) => b.ret !== undefined).sort((a, b) => b.ret! - a.ret!)
    return [...list.filter((b) => b.ret === undefined), ...rets]
  }
  const stmts = optimized ? eliminateLoads(byReturn(topoOrder(root))) : new Map(topoOrder(root).map((b) => [b, b.stmts]))
  if (optimized) mergeResidual(root, stmts)
  let order = byReturn(topoOrder(root))
  for (;;) {
    const pos = new Map<Block, number>()
    let n = 0
    for (const b of order) {
      pos.set(b, n)
      n += (stmts.get(b)?.length ?? 0) + 1
    }
    if (n > BPF_MAXINSNS) throw new FilterSyntaxError(`filter too complex: ${n} instructions (the kernel allows ${BPF_MAXINSNS})`)
    // Find a conditional jump that does not fit in 8 bits; give it a `ja` right after.
    let fixed = false
    for (let i = 0; i < order.length && !fixed; i++) {
      const b = order[i]
      if (b.ret !== undefined || bpfOp(b.jmp.code) === BPF.JA) continue
      const at = pos.get(b)! + stmts.get(b)!.length
      for (const side of ['jt', 'jf'] as const) {
        if (pos.get(b[side]!)! - at - 1 > 255) {
          const tramp: Block = { id: -1, stmts: [], jmp: { code: BPF.JMP | BPF.JA, k: 0 }, jt: b[side], jf: b[side] }
          b[side] = tramp
          order.splice(i + 1, 0, tramp)
          stmts.set(tramp, [])
          fixed = true
          break
        }
      }
    }
    if (fixed) continue
    const prog: BpfInstruction[] = []
    for (const b of order) {
      prog.push(...stmts.get(b)!)
      const at = prog.length
      if (b.ret !== undefined) prog.push(stmt(BPF.RET | BPF.K, b.ret))
      else if (bpfOp(b.jmp.code) === BPF.JA && (b.jmp.code & 0x07) === BPF.JMP && b.jt === b.jf) prog.push({ code: BPF.JMP | BPF.JA, jt: 0, jf: 0, k: pos.get(b.jt!)! - at - 1 })
      else prog.push({ code: b.jmp.code, jt: pos.get(b.jt!)! - at - 1, jf: pos.get(b.jf!)! - at - 1, k: b.jmp.k >>> 0 })
    }
    return prog
  }
}

/**
 * Checks a program against the kernel's rules for classic BPF (sk_chk_filter). Throws if broken.
 * With `backward`, a `ja` may also go back (libpcap's interpreter takes it; see protochain.ts).
 */
export function validateProgram(prog: readonly BpfInstruction[], backward = false): void {
  if (prog.length === 0 || prog.length > BPF_MAXINSNS) throw new FilterSyntaxError(`program length ${prog.length} is outside 1..${BPF_MAXINSNS}`)
  prog.forEach((ins, i) => {
    if (bpfClass(ins.code) === BPF.JMP) {
      const ja = bpfOp(ins.code) === BPF.JA
      const far = ja ? i + 1 + (backward ? ins.k | 0 : ins.k) : i + 1 + Math.max(ins.jt, ins.jf)
      if (far >= prog.length || far < 0) throw new FilterSyntaxError(`instruction ${i} jumps past the end`)
    }
    if ((bpfClass(ins.code) === BPF.ST || bpfClass(ins.code) === BPF.STX) && ins.k >= 16) throw new FilterSyntaxError(`instruction ${i} uses scratch M[${ins.k}]`)
  })
  if (bpfClass(prog[prog.length - 1].code) !== BPF.RET) throw new FilterSyntaxError('program does not end in RET')
}
