/**
 * The BPF "JIT": compiles a classic BPF program once into a JavaScript function (generated
 * source, `new Function`) that V8 then compiles to machine code. Each instruction becomes a
 * `case` of a switch inside a loop; jumps set the next label, and since classic BPF only jumps
 * forward, falling through to the next case is the common path. Loads check the captured length
 * and reject the packet when they would read past it, as bpf_filter() does; division by zero
 * rejects too. Nothing is allocated per packet.
 */
import { BPF, SKF_AD_OFF, SkfAd, bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc, type BpfInstruction } from './bpf.js'

/** A compiled filter: returns the RET value (0 = drop) for bytes data[off, off+capLen) with wire length wireLen. */
export type CompiledFilter = (data: Uint8Array, off: number, capLen: number, wireLen: number) => number

function loadExpr(size: number, addr: string): string {
  // `p` is an absolute index into data; bounds were checked against `end` by the caller.
  if (size === BPF.B) return `d[${addr}]`
  if (size === BPF.H) return `((d[${addr}] << 8) | d[${addr} + 1])`
  return `(((d[${addr}] << 24) | (d[${addr} + 1] << 16) | (d[${addr} + 2] << 8) | d[${addr} + 3]) >>> 0)`
}
const width = (size: number): number => (size === BPF.B ? 1 : size === BPF.H ? 2 : 4)

/** Generates the JavaScript source of a program's filter function body. */
export function jitSource(prog: readonly BpfInstruction[]): string {
  const lines: string[] = []
  lines.push('let A = 0, X = 0, p = 0; const end = o + c;')
  const usesMem = prog.some((i) => bpfClass(i.code) === BPF.ST || bpfClass(i.code) === BPF.STX || bpfMode(i.code) === BPF.MEM)
  if (usesMem) lines.push('let m0=0,m1=0,m2=0,m3=0,m4=0,m5=0,m6=0,m7=0,m8=0,m9=0,m10=0,m11=0,m12=0,m13=0,m14=0,m15=0;')
  // Only instructions that are jump targets need labels; a straight run is one case.
  const targets = new Set<number>([0])
  prog.forEach((ins, i) => {
    if (bpfClass(ins.code) === BPF.JMP) {
      if (bpfOp(ins.code) === BPF.JA) targets.add(i + 1 + ins.k)
      else { targets.add(i + 1 + ins.jt); targets.add(i + 1 + ins.jf) }
    }
  })
  lines.push('let pc = 0;', 'for (;;) switch (pc) {')
  const goto = (t: number): string => `{ pc = ${t}; continue }`
  prog.forEach((ins, i) => {
    if (targets.has(i)) lines.push(`case ${i}:`)
    const { code } = ins
    const k = ins.k >>> 0
    const size = bpfSize(code)
    switch (bpfClass(code)) {
      case BPF.LD: case BPF.LDX: {
        const dst = bpfClass(code) === BPF.LD ? 'A' : 'X'
        switch (bpfMode(code)) {
          case BPF.IMM: lines.push(`${dst} = ${k};`); break
          case BPF.LEN: lines.push(`${dst} = w;`); break
          case BPF.MEM: lines.push(`${dst} = m${k};`); break
          case BPF.MSH: lines.push(`if (${k + 1} > c) return 0; X = (d[o + ${k}] & 15) << 2;`); break
          case BPF.ABS: {
            if ((k | 0) < 0 && (k | 0) >= SKF_AD_OFF) {
              // Ancillary data exists only for live packets; a file packet has no VLAN tag in metadata.
              const ad = (k | 0) - SKF_AD_OFF
              lines.push(ad === SkfAd.VLAN_TAG_PRESENT || ad === SkfAd.VLAN_TAG ? 'A = 0;' : 'return 0;')
              break
            }
            lines.push(`if (${k + width(size)} > c) return 0; A = ${loadExpr(size, `o + ${k}`)};`)
            break
          }
          case BPF.IND:
            lines.push(`p = X + ${k}; if (p + ${width(size)} > c) return 0; p += o; A = ${loadExpr(size, 'p')};`)
            break
        }
        break
      }
      case BPF.ST: lines.push(`m${k} = A;`); break
      case BPF.STX: lines.push(`m${k} = X;`); break
      case BPF.ALU: {
        const op = bpfOp(code)
        const src = bpfSrc(code) === BPF.X ? 'X' : String(k)
        switch (op) {
          case BPF.ADD: lines.push(`A = (A + ${src}) >>> 0;`); break
          case BPF.SUB: lines.push(`A = (A - ${src}) >>> 0;`); break
          case BPF.MUL: lines.push(`A = Math.imul(A, ${src}) >>> 0;`); break
          case BPF.DIV: lines.push(`${src === 'X' ? 'if (X === 0) return 0; ' : ''}A = Math.floor(A / ${src}) >>> 0;`); break
          case BPF.MOD: lines.push(`${src === 'X' ? 'if (X === 0) return 0; ' : ''}A = (A % ${src}) >>> 0;`); break
          case BPF.AND: lines.push(`A = (A & ${src}) >>> 0;`); break
          case BPF.OR: lines.push(`A = (A | ${src}) >>> 0;`); break
          case BPF.XOR: lines.push(`A = (A ^ ${src}) >>> 0;`); break
          case BPF.LSH: lines.push(`A = ${src} > 31 ? 0 : (A << ${src}) >>> 0;`); break
          case BPF.RSH: lines.push(`A = ${src} > 31 ? 0 : A >>> ${src};`); break
          case BPF.NEG: lines.push('A = (-A) >>> 0;'); break
          default: lines.push('return 0;')
        }
        break
      }
      case BPF.JMP: {
        const op = bpfOp(code)
        if (op === BPF.JA) { lines.push(goto(i + 1 + k)); break }
        const src = bpfSrc(code) === BPF.X ? 'X' : String(k)
        const cond = op === BPF.JEQ ? `A === ${src}` : op === BPF.JGT ? `A > ${src}` : op === BPF.JGE ? `A >= ${src}` : `(A & ${src}) !== 0`
        const t = i + 1 + ins.jt
        const f = i + 1 + ins.jf
        if (t === i + 1 && targets.has(t)) lines.push(`if (!(${cond})) ${goto(f)}`)
        else if (f === i + 1 && targets.has(f)) lines.push(`if (${cond}) ${goto(t)}`)
        else lines.push(`if (${cond}) ${goto(t)} else ${goto(f)}`)
        break
      }
      case BPF.RET: {
        const r = (code & 0x18) === BPF.A ? 'A' : (code & 0x18) === BPF.X ? 'X' : String(k)
        lines.push(`return ${r};`)
        break
      }
      case BPF.MISC: lines.push((code & 0xf8) === BPF.TXA ? 'A = X;' : 'X = A;'); break
      default: lines.push('return 0;')
    }
  })
  lines.push('default: return 0;', '}')
  return lines.join('\n')
}

/** Compiles a program into a filter function. */
export function jit(prog: readonly BpfInstruction[]): CompiledFilter {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('d', 'o', 'c', 'w', jitSource(prog)) as CompiledFilter
}
