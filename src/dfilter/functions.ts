/**
 * Display-filter functions of Wireshark 4.0 (wireshark-filter(4), "Functions"): len, count,
 * lower, upper, string, max, min, abs. len, lower, upper, string and abs give one value per
 * occurrence of their field; count, max and min give one value for the packet (none when the
 * field is absent). Their arguments are fields, as 4.0 requires (max, min and abs also take
 * literals).
 */
import type { DissectedPacket } from '../dissect/dissected-packet.js'
import { formatBytes } from '../dissect/field-types.js'
import { DisplayFilterError } from '../errors.js'
import type { Expr } from './ast.js'
import { compatible, compileExpr, isLiteralExpr, type CompileContext, type Operand } from './operands.js'
import { Arena, isNumeric, orderFor, ValueList, type ValueType } from './values.js'

const ARITY: Record<string, [number, number]> = {
  len: [1, 1], count: [1, 1], lower: [1, 1], upper: [1, 1], string: [1, 1], abs: [1, 1], max: [1, Infinity], min: [1, Infinity],
}

/** Compiles a function call (`len(http.host)`); throws DisplayFilterError for a bad one. */
export function compileCall(e: Extract<Expr, { k: 'call' }>, ctx: CompileContext, expected?: ValueType): Operand {
  const name = e.name
  if (!Object.hasOwn(ARITY, name)) throw new DisplayFilterError(`function '${name}' does not exist`, e.pos)
  const [lo, hi] = ARITY[name]
  if (e.args.length < lo) throw new DisplayFilterError(`function ${name} needs at least ${lo} argument${lo > 1 ? 's' : ''}`, e.pos)
  if (e.args.length > hi) throw new DisplayFilterError(`function ${name} can only accept ${hi} argument${hi > 1 ? 's' : ''}`, e.pos)
  const text = ctx.source(e)
  const list = new ValueList()
  const arena = new Arena()
  const op = (type: ValueType, load: (p: DissectedPacket) => ValueList): Operand => ({ kind: 'call', type, pos: e.pos, text, load })

  if (name === 'max' || name === 'min' || name === 'abs') {
    const fieldArg = e.args.find((a) => !isLiteralExpr(a, ctx))
    if (fieldArg === undefined) throw new DisplayFilterError('constant arithmetic expression on the LHS is invalid', e.args[0].pos)
    const first = compileExpr(fieldArg, ctx, expected)
    const args = e.args.map((a) => (a === fieldArg ? first : compileExpr(a, ctx, first.type)))
    for (const a of args) {
      if (!compatible(a.type, first.type)) throw new DisplayFilterError(`arguments to '${name}' must have the same type`, a.pos)
    }
    if (name === 'abs') {
      if (!isNumeric(first.type) || first.type === 'bool') throw new DisplayFilterError(`only numeric fields can be used as parameter for abs()`, first.pos)
      return op(first.type, (p) => {
        const src = first.load(p)
        list.n = 0
        for (let i = 0; i < src.n; i++) list.pushNum(Math.abs(src.num[i]))
        return list
      })
    }
    const order = orderFor(first.type)
    const sign = name === 'max' ? 1 : -1
    const numeric = isNumeric(first.type)
    return op(first.type, (p) => {
      list.n = 0
      let best: ValueList | undefined
      let bi = -1
      for (const a of args) {
        const v = a.load(p)
        for (let i = 0; i < v.n; i++) if (best === undefined || order(v, i, best, bi) * sign > 0) { best = v; bi = i }
      }
      if (best !== undefined) {
        if (numeric) list.pushNum(best.num[bi])
        else list.pushBytes(best.buf[bi], best.off[bi], best.len[bi], best.bits[bi])
      }
      return list
    })
  }

  const arg = e.args[0]
  if (arg.k !== 'word' || isLiteralExpr(arg, ctx)) {
    if (arg.k === 'word') compileExpr(arg, ctx)
    throw new DisplayFilterError(`only fields can be used as parameter for ${name}()`, arg.pos)
  }
  const f = compileExpr(arg, ctx)
  switch (name) {
    case 'count':
      return op('uint', (p) => {
        const n = f.load(p).n
        list.n = 0
        if (n > 0) list.pushNum(n)
        return list
      })
    case 'len':
      if (isNumeric(f.type)) {
        // Wireshark gives the wire size of the integer type, which netkit's fields do not record.
        throw new DisplayFilterError(`len() of ${f.text} is not supported: netkit does not record the byte size of number fields`, arg.pos)
      }
      if (f.type === 'none' && f.fieldId !== undefined) {
        // A protocol's length is its own header's, as Wireshark sets its item's length (udp: 8),
        // while its value (for slices and contains) runs to the end of the packet.
        const id = f.fieldId
        return op('uint', (p) => {
          const o = p.occurrences
          list.n = 0
          for (let k = o.firstOf(id); k !== -1; k = o.next[k]) list.pushNum(p.protocolLength(k))
          return list
        })
      }
      return op('uint', (p) => {
        const src = f.load(p)
        list.n = 0
        for (let i = 0; i < src.n; i++) list.pushNum(src.len[i])
        return list
      })
    case 'lower':
    case 'upper': {
      if (f.type !== 'string') throw new DisplayFilterError(`only string type fields can be used as parameter for ${name}()`, arg.pos)
      const lower = name === 'lower'
      return op('string', (p) => {
        const src = f.load(p)
        list.n = 0
        arena.pos = 0
        for (let i = 0; i < src.n; i++) {
          const n = src.len[i]
          const at = arena.take(n)
          const b = src.buf[i], o = src.off[i], out = arena.buf
          // ASCII case mapping (g_ascii_strdown/strup); other bytes are kept.
          for (let k = 0; k < n; k++) {
            const c = b[o + k]
            out[at + k] = lower ? (c >= 65 && c <= 90 ? c + 32 : c) : (c >= 97 && c <= 122 ? c - 32 : c)
          }
          list.pushBytes(out, at, n)
        }
        return list
      })
    }
    case 'string': {
      const t = f.type
      if (!(t === 'uint' || t === 'int' || t === 'ipv4' || t === 'ipv6' || t === 'ether')) {
        throw new DisplayFilterError(`string conversion for field "${f.text}" is not supported`, arg.pos)
      }
      const spec = { name: '', type: t }
      return op('string', (p) => {
        const src = f.load(p)
        list.n = 0
        arena.pos = 0
        for (let i = 0; i < src.n; i++) {
          // Integers in decimal whatever the field's display base (4.0: string(tcp.flags) == "2").
          const s = isNumeric(t) ? String(src.num[i]) : formatBytes(spec, src.buf[i], src.off[i], src.len[i])
          const at = arena.take(s.length)
          arena.buf.write(s, at, 'latin1')
          list.pushBytes(arena.buf, at, s.length)
        }
        return list
      })
    }
  }
  throw new DisplayFilterError(`function '${name}' does not exist`, e.pos)
}
