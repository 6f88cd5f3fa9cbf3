/**
 * Operands: compiles the value side of a display filter (fields, layer selections, slices,
 * literals, arithmetic, `${field}` references) into objects that fill a ValueList per packet.
 * Literals are typed here by the operand they are compared with, as Wireshark 4.0's semcheck
 * does (a bare word is a field when one has that name, else a literal of the other side's type).
 */
import type { DissectedPacket } from '../dissect/dissected-packet.js'
import type { DissectorRegistry } from '../dissect/registry.js'
import { DisplayFilterError } from '../errors.js'
import type { Expr, Range } from './ast.js'
import { compileCall } from './functions.js'
import { charLiteral, literalOf, parseInteger, stringLiteral } from './literals.js'
import { Arena, isByteSequence, isNumeric, textBytes, TYPE_NAMES, ValueList, type ValueType } from './values.js'

/** What an operand is, for the checks that depend on it. */
export type OperandKind = 'field' | 'slice' | 'call' | 'arith' | 'literal' | 'ref'

/** A compiled operand: its type and how to get its values for a packet. */
export interface Operand {
  readonly kind: OperandKind
  readonly type: ValueType
  /** Where it starts in the expression, and its source text (for messages). */
  readonly pos: number
  readonly text: string
  /** For a plain field reference (no layer selection): its id, for the fast paths. */
  readonly fieldId?: number
  /** Fills and returns the operand's values for `p` (the same list every time). */
  load(p: DissectedPacket): ValueList
}

/** Compile-time state: the registry, the field ids read so far, the expression text. */
export class CompileContext {
  readonly fields = new Set<number>()
  private fieldProto: Map<number, string> | undefined

  constructor(readonly registry: DissectorRegistry, readonly expr: string) {}

  /** The protocol whose layers carry field `id` (for `#n` with negative layer numbers). */
  protocolOf(id: number): string {
    if (this.fieldProto === undefined) {
      this.fieldProto = new Map()
      for (const d of this.registry.dissectors) {
        this.fieldProto.set(d.protoId, d.name)
        for (const f of Object.values(d.ids)) if (!this.fieldProto.has(f)) this.fieldProto.set(f, d.name)
      }
    }
    return this.fieldProto.get(id) ?? ''
  }

  /** The source text of an expression. */
  source(e: { pos: number; end: number }): string { return this.expr.slice(e.pos, e.end) }
}

const EMPTY = Buffer.alloc(0)

/**
 * Compiles a value expression. `expected` types the literals (the other side's type); without
 * it a bare word must be a field. `other` is the other side when it is a field: a word or string
 * may then name one of its values (its value strings), as Wireshark 4.0 takes `ip.proto == UDP`.
 */
export function compileExpr(e: Expr, ctx: CompileContext, expected?: ValueType, other?: Operand): Operand {
  switch (e.k) {
    case 'word': {
      const id = ctx.registry.fieldByName.get(e.text)
      if (id !== undefined) return fieldOperand(id, e.layers, e.pos, ctx.source(e), ctx)
      if (e.forcedField || e.layers !== undefined || expected === undefined) {
        throw new DisplayFilterError(`"${e.text}" is neither a field nor a protocol name`, e.pos)
      }
      const named = valueNamed(e.text, e.pos, ctx, other)
      if (named !== undefined) return constant(named, expected, e.pos, e.text)
      return constant(literalOf(e.text, expected, e.pos, false), expected, e.pos, e.text)
    }
    case 'string':
    case 'char': {
      if (expected === undefined) throw new DisplayFilterError(`${e.text} is neither a field nor a protocol name`, e.pos)
      const named = e.k === 'string' ? valueNamed(e.bytes.toString('utf8'), e.pos, ctx, other) : undefined
      if (named !== undefined) return constant(named, expected, e.pos, e.text)
      return constant(e.k === 'string' ? stringLiteral(e.bytes, e.text, expected, e.pos) : charLiteral(e.value, expected), expected, e.pos, e.text)
    }
    case 'neg': {
      if (e.a.k === 'word' && !ctx.registry.fieldByName.has(e.a.text) && expected !== undefined) {
        return constant(literalOf(e.a.text, expected, e.a.pos, true), expected, e.pos, '-' + e.a.text)
      }
      const a = compileExpr(e.a, ctx, expected)
      if (!isNumeric(a.type) || a.type === 'bool') throw new DisplayFilterError(`${TYPE_NAMES[a.type]} cannot be negated`, e.pos)
      // Negating an unsigned field gives a signed value (4.0: `-tcp.srcport < 0` holds).
      const type: ValueType = a.type === 'uint' ? 'int' : a.type
      return mapNumbers(a, type, e.pos, ctx.source(e), 'arith', (x) => -x)
    }
    case 'slice':
      return sliceOperand(compileExpr(e.of, ctx), e.ranges, e.pos, ctx.source(e))
    case 'call':
      return compileCall(e, ctx, expected)
    case 'arith':
      return compileArith(e, ctx, expected)
    case 'ref': {
      const id = ctx.registry.fieldByName.get(e.name)
      if (id === undefined) throw new DisplayFilterError(`macro '${e.name}' does not exist`, e.pos)
      // A field reference reads the selected packet; reading a file there is none: no values.
      const list = new ValueList()
      return { kind: 'ref', type: ctx.registry.fields[id].type, pos: e.pos, text: ctx.source(e), load: () => list }
    }
  }
}

/** A literal operand: its values are fixed at compile time. */
export function constant(list: ValueList, type: ValueType, pos: number, text: string): Operand {
  return { kind: 'literal', type, pos, text, load: () => list }
}

/** The occurrences of field `id`, optionally only those in the selected layers (`ip.addr#2`). */
export function fieldOperand(id: number, layers: Range[] | undefined, pos: number, text: string, ctx: CompileContext): Operand {
  ctx.fields.add(id)
  const type = ctx.registry.fields[id].type
  const list = new ValueList()
  const proto = layers !== undefined ? ctx.protocolOf(id) : ''
  const inLayers = layers === undefined ? undefined : (p: DissectedPacket, k: number): boolean => {
    const n = p.layerNumber(k)
    let total = -1
    for (const r of layers) {
      if ((r.start < 0 || (r.end !== undefined && r.end < 0)) && total < 0) {
        total = 0
        for (let i = 0; i < p.layerCount; i++) if (p.layer(i).name === proto) total++
      }
      const s = r.start < 0 ? total + 1 + r.start : r.start
      const end = r.length !== undefined ? s + r.length - 1 : r.end !== undefined ? (r.end < 0 ? total + 1 + r.end : r.end) : Infinity
      if (n >= s && n <= end) return true
    }
    return false
  }
  const numeric = isNumeric(type)
  const bool = type === 'bool'
  const load = (p: DissectedPacket): ValueList => {
    list.n = 0
    const o = p.occurrences
    for (let k = o.firstOf(id); k !== -1; k = o.next[k]) {
      if (inLayers !== undefined && !inLayers(p, k)) continue
      const t = o.text[k]
      if (numeric) {
        const v = t !== undefined ? Number(t) : o.num[k]
        list.pushNum(bool ? (v !== 0 ? 1 : 0) : v)
      } else if (t !== undefined) {
        const b = textBytes(t)
        list.pushBytes(b, 0, b.length)
      } else if (o.off[k] < 0) {
        list.pushBytes(EMPTY, 0, 0)
      } else {
        list.pushBytes(o.buf[k] ?? p.data, o.off[k], o.len[k])
      }
    }
    return list
  }
  return { kind: 'field', type, pos, text, fieldId: layers === undefined ? id : undefined, load }
}

/**
 * A slice of byte values (`frame[0:2]`, `ip.src[-1]`, `eth.src[0,3]`): type bytes. A value the
 * ranges do not fit inside is left out (4.0: `frame[100000]` matches nothing); several ranges are
 * joined into one value in the operand's arena.
 */
function sliceOperand(of: Operand, ranges: Range[], pos: number, text: string): Operand {
  if (of.kind === 'literal' || isNumeric(of.type)) {
    throw new DisplayFilterError(`"${of.text}" is a ${TYPE_NAMES[of.type]} and cannot be sliced into a sequence of bytes`, of.pos)
  }
  const list = new ValueList()
  const arena = new Arena()
  const starts = new Int32Array(ranges.length)
  const ends = new Int32Array(ranges.length)
  const resolve = (len: number): number => {
    let total = 0
    for (let r = 0; r < ranges.length; r++) {
      const R = ranges[r]
      const s = R.start < 0 ? len + R.start : R.start
      const e = R.length !== undefined ? s + R.length : R.end !== undefined ? (R.end < 0 ? len + R.end : R.end) + 1 : len
      if (s < 0 || e > len || s >= e) return -1
      starts[r] = s
      ends[r] = e
      total += e - s
    }
    return total
  }
  const load = (p: DissectedPacket): ValueList => {
    const src = of.load(p)
    list.n = 0
    arena.pos = 0
    for (let i = 0; i < src.n; i++) {
      const total = resolve(src.len[i])
      if (total < 0) continue
      const b = src.buf[i], o = src.off[i]
      if (ranges.length === 1) { list.pushBytes(b, o + starts[0], total); continue }
      const at = arena.take(total)
      let w = at
      for (let r = 0; r < ranges.length; r++) w += b.copy(arena.buf, w, o + starts[r], o + ends[r])
      list.pushBytes(arena.buf, at, total)
    }
    return list
  }
  return { kind: 'slice', type: 'bytes', pos, text, load }
}

/** An operand whose values are f(x) of another's numbers. */
export function mapNumbers(a: Operand, type: ValueType, pos: number, text: string, kind: OperandKind, f: (x: number) => number): Operand {
  const list = new ValueList()
  const load = (p: DissectedPacket): ValueList => {
    const src = a.load(p)
    list.n = 0
    for (let i = 0; i < src.n; i++) list.pushNum(f(src.num[i]))
    return list
  }
  if (a.kind === 'literal') {
    const fixed = load(undefined as unknown as DissectedPacket)
    return constant(fixed, type, pos, text)
  }
  return { kind, type, pos, text, load }
}

/**
 * Arithmetic (`+ - * / %`, 4.0) on numbers and bitwise `&` on numbers, addresses and bytes:
 * every pair of values (a field's occurrences each). Division by zero gives no value. The left
 * operand types a literal right one; a literal left one takes the right one's type.
 */
function compileArith(e: Extract<Expr, { k: 'arith' }>, ctx: CompileContext, expected?: ValueType): Operand {
  const aLit = isLiteralExpr(e.a, ctx)
  let a: Operand, b: Operand
  if (aLit && !isLiteralExpr(e.b, ctx)) {
    b = compileExpr(e.b, ctx, expected)
    a = compileExpr(e.a, ctx, b.type)
  } else {
    a = compileExpr(e.a, ctx, expected)
    // A negative mask is its two's complement (4.0: `tcp.flags & -1` tests every bit), while a
    // negative literal compared with an unsigned field has no value (see literalOf).
    const negativeMask = e.op === '&' && a.type === 'uint' && e.b.k === 'neg'
    b = compileExpr(e.b, ctx, negativeMask ? 'int' : a.type)
  }
  const type = a.type
  const text = ctx.source(e)
  if (e.op === '&') {
    if (type === 'bool' || type === 'string' || type === 'double' || type === 'ipv6') throw new DisplayFilterError(`${TYPE_NAMES[type]} cannot &`, e.pos)
  } else if (!isNumeric(type) || type === 'bool') {
    throw new DisplayFilterError(`${TYPE_NAMES[type]} cannot ${e.op}`, e.pos)
  }
  if (!compatible(a.type, b.type)) throw new DisplayFilterError(`${a.text} and ${b.text} are not of compatible types`, b.pos)
  const list = new ValueList()
  const arena = new Arena()
  const integer = type === 'uint' || type === 'int'
  const load = (p: DissectedPacket): ValueList => {
    const x = a.load(p)
    const y = b.load(p)
    list.n = 0
    arena.pos = 0
    for (let i = 0; i < x.n; i++) {
      for (let j = 0; j < y.n; j++) {
        if (!isNumeric(type)) {
          const n = x.len[i] < y.len[j] ? x.len[i] : y.len[j]
          const at = arena.take(n)
          for (let k = 0; k < n; k++) arena.buf[at + k] = x.buf[i][x.off[i] + k] & y.buf[j][y.off[j] + k]
          list.pushBytes(arena.buf, at, n)
          continue
        }
        const u = x.num[i], v = y.num[j]
        switch (e.op) {
          case '+': list.pushNum(u + v); break
          case '-': list.pushNum(u - v); break
          case '*': list.pushNum(u * v); break
          case '/': if (v !== 0) list.pushNum(integer ? Math.trunc(u / v) : u / v); break
          case '%': if (v !== 0) list.pushNum(u % v); break
          case '&': list.pushNum(Number(BigInt.asUintN(64, BigInt(u) & BigInt(v)))); break
        }
      }
    }
    return list
  }
  if (a.kind === 'literal' && b.kind === 'literal') return constant(cloneList(load(undefined as unknown as DissectedPacket)), type, e.pos, text)
  return { kind: 'arith', type, pos: e.pos, text, load: e.op === '&' && isNumeric(type) ? bitAnd(a, b, list) : load }
}

/** Bitwise and on numbers below 2^32 without BigInt (the common `tcp.flags & 0x02`). */
function bitAnd(a: Operand, b: Operand, list: ValueList): (p: DissectedPacket) => ValueList {
  return (p) => {
    const x = a.load(p)
    const y = b.load(p)
    list.n = 0
    for (let i = 0; i < x.n; i++) {
      for (let j = 0; j < y.n; j++) {
        const u = x.num[i], v = y.num[j]
        list.pushNum(u >= 0 && v >= 0 && u < 2 ** 32 && v < 2 ** 32 ? (u & v) >>> 0 : Number(BigInt.asUintN(64, BigInt(Math.trunc(u)) & BigInt(Math.trunc(v)))))
      }
    }
    return list
  }
}

function cloneList(l: ValueList): ValueList {
  const c = new ValueList()
  for (let i = 0; i < l.n; i++) {
    if (l.buf[i] === undefined) c.pushNum(l.num[i])
    else c.pushBytes(Buffer.from(l.buf[i].subarray(l.off[i], l.off[i] + l.len[i])), 0, l.len[i], l.bits[i])
  }
  return c
}

/** Whether an expression is a literal (its type comes from the other side). */
export function isLiteralExpr(e: Expr, ctx: CompileContext): boolean {
  switch (e.k) {
    case 'word': return !e.forcedField && e.layers === undefined && !ctx.registry.fieldByName.has(e.text)
    case 'string': case 'char': return true
    case 'neg': return isLiteralExpr(e.a, ctx)
    case 'arith': return isLiteralExpr(e.a, ctx) && isLiteralExpr(e.b, ctx)
    default: return false
  }
}

/** Whether values of types a and b can be compared (Wireshark's compatible ftypes). */
export function compatible(a: ValueType, b: ValueType): boolean {
  if (a === b) return true
  const ints = (t: ValueType): boolean => t === 'uint' || t === 'int'
  const bytes = (t: ValueType): boolean => t === 'bytes' || t === 'ether'
  return (ints(a) && ints(b)) || (bytes(a) && bytes(b))
}

/**
 * The number `text` names among the value strings of the field `other` (case-insensitively, as
 * Wireshark matches them), or undefined when that field has none or `text` is a number. A word
 * that is neither fails as Wireshark's does: it "cannot be found among the possible values".
 */
function valueNamed(text: string, pos: number, ctx: CompileContext, other: Operand | undefined): ValueList | undefined {
  const spec = other?.fieldId === undefined ? undefined : ctx.registry.fields[other.fieldId]
  if (spec?.values === undefined || parseInteger(text) !== undefined) return undefined
  const want = text.toLowerCase()
  const list = new ValueList()
  for (const [n, name] of Object.entries(spec.values)) if (name.toLowerCase() === want) list.pushNum(Number(n))
  if (list.n === 0) throw new DisplayFilterError(`"${text}" cannot be found among the possible values for ${spec.name}.`, pos)
  return list
}
