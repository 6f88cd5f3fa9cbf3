/**
 * The semantic check and code generation of display filters: turns the syntax tree into one
 * predicate closure per node, checking types as Wireshark 4.0's semcheck does. Occurrence rules
 * (wireshark-filter(4), "Comparison operators"): `==`, `!==`, `>`, `contains`, `matches`, `in`
 * hold when SOME pair of values does; `!=` and `===` when EVERY pair does. Every relation is
 * false when either side has no value (4.0: `udp.port != 53` is false on a TCP packet, while
 * `!(udp.port == 53)` is true).
 */
import type { DissectedPacket } from '../dissect/dissected-packet.js'
import { DisplayFilterError } from '../errors.js'
import type { Expr, RelOp, Test } from './ast.js'
import { compatible, compileExpr, isLiteralExpr, type CompileContext, type Operand } from './operands.js'
import { compileRegex } from './regex.js'
import { containsBytes, isByteSequence, isNumeric, orderFor, TYPE_NAMES, type ValueList } from './values.js'

/** A compiled test. */
export type Predicate = (p: DissectedPacket) => boolean

/** Compiles a test node into a predicate. */
export function compileTest(t: Test, ctx: CompileContext): Predicate {
  switch (t.k) {
    case 'and': {
      const a = compileTest(t.a, ctx), b = compileTest(t.b, ctx)
      return (p) => a(p) && b(p)
    }
    case 'or': {
      const a = compileTest(t.a, ctx), b = compileTest(t.b, ctx)
      return (p) => a(p) || b(p)
    }
    case 'not': {
      const a = compileTest(t.a, ctx)
      return (p) => !a(p)
    }
    case 'exists':
      return compileExists(t, ctx)
    case 'rel':
      return compileRelation(t, ctx)
    case 'in':
      return compileIn(t, ctx)
  }
}

/** A bare value as a test: a field or slice is there; an arithmetic result is non-zero. */
function compileExists(t: Extract<Test, { k: 'exists' }>, ctx: CompileContext): Predicate {
  if (t.e.k === 'call') throw new DisplayFilterError('you cannot test whether a function is present', t.pos)
  const v = compileExpr(t.e, ctx)
  if (v.fieldId !== undefined) {
    const id = v.fieldId
    return (p) => p.occurrences.firstOf(id) !== -1
  }
  if (v.kind === 'arith') {
    const numeric = isNumeric(v.type)
    return (p) => {
      const l = v.load(p)
      for (let i = 0; i < l.n; i++) {
        if (numeric) { if (l.num[i] !== 0) return true; continue }
        for (let k = 0; k < l.len[i]; k++) if (l.buf[i][l.off[i] + k] !== 0) return true
      }
      return false
    }
  }
  return (p) => v.load(p).n > 0
}

/** Compiles the left side of a relation: a field, slice, function or arithmetic on one. */
function leftOperand(t: { a: Expr }, op: string, ctx: CompileContext): Operand {
  if (isLiteralExpr(t.a, ctx)) {
    const what = t.a.k === 'arith' || t.a.k === 'neg' ? 'constant arithmetic expression on the LHS is invalid' : `left side of "${op}" expression must be a field or function, not ${ctx.source(t.a)}`
    throw new DisplayFilterError(what, t.a.pos)
  }
  if (t.a.k === 'arith' && isLiteralExpr(t.a.a, ctx)) throw new DisplayFilterError('constant arithmetic expression on the LHS is invalid', t.a.pos)
  return compileExpr(t.a, ctx)
}

function compileRelation(t: Extract<Test, { k: 'rel' }>, ctx: CompileContext): Predicate {
  const a = leftOperand(t, t.op, ctx)
  if (t.op === 'matches') {
    if (!isByteSequence(a.type)) throw new DisplayFilterError(`${a.text} (type=${TYPE_NAMES[a.type]}) cannot participate in matches comparison`, a.pos)
    if (t.b.k !== 'string') throw new DisplayFilterError('matches requires a double quoted string on the right side', t.b.pos)
    const re = compileRegex(t.b.bytes, t.b.pos)
    return (p) => {
      const l = a.load(p)
      for (let i = 0; i < l.n; i++) if (re.test(l.buf[i].toString('latin1', l.off[i], l.off[i] + l.len[i]))) return true
      return false
    }
  }
  if (t.op === 'contains' && !isByteSequence(a.type)) {
    throw new DisplayFilterError(`${a.text} (type=${TYPE_NAMES[a.type]}) cannot participate in contains comparison`, a.pos)
  }
  // `eth.src contains 00`: the right side of contains is any byte string, not a whole address.
  const b = compileExpr(t.b, ctx, t.op === 'contains' && a.type === 'ether' ? 'bytes' : a.type, a)
  if (!compatible(a.type, b.type)) throw new DisplayFilterError(`${a.text} and ${b.text} are not of compatible types`, b.pos)
  if (t.op === 'contains') return anyPair(a, b, containsBytes)
  const fast = numberFastPath(a, b, t.op)
  if (fast !== undefined) return fast
  const order = orderFor(a.type)
  switch (t.op) {
    case '==': return anyPair(a, b, (x, i, y, j) => order(x, i, y, j) === 0)
    case '!==': return anyPair(a, b, (x, i, y, j) => order(x, i, y, j) !== 0)
    case '!=': return allPairs(a, b, (x, i, y, j) => order(x, i, y, j) !== 0)
    case '===': return allPairs(a, b, (x, i, y, j) => order(x, i, y, j) === 0)
    case '>': return anyPair(a, b, (x, i, y, j) => order(x, i, y, j) > 0)
    case '>=': return anyPair(a, b, (x, i, y, j) => order(x, i, y, j) >= 0)
    case '<': return anyPair(a, b, (x, i, y, j) => order(x, i, y, j) < 0)
    case '<=': return anyPair(a, b, (x, i, y, j) => order(x, i, y, j) <= 0)
  }
  throw new DisplayFilterError(`operator ${t.op} is not supported`, t.opPos)
}

type PairTest = (a: ValueList, i: number, b: ValueList, j: number) => boolean

/** True when some value of a and some value of b pass. */
function anyPair(a: Operand, b: Operand, test: PairTest): Predicate {
  return (p) => {
    const x = a.load(p)
    if (x.n === 0) return false
    const y = b.load(p)
    for (let i = 0; i < x.n; i++) for (let j = 0; j < y.n; j++) if (test(x, i, y, j)) return true
    return false
  }
}

/** True when both sides have values and every pair passes. */
function allPairs(a: Operand, b: Operand, test: PairTest): Predicate {
  return (p) => {
    const x = a.load(p)
    if (x.n === 0) return false
    const y = b.load(p)
    if (y.n === 0) return false
    for (let i = 0; i < x.n; i++) for (let j = 0; j < y.n; j++) if (!test(x, i, y, j)) return false
    return true
  }
}

/**
 * The common case `numeric.field OP number`: walks the field's occurrence chain and compares
 * numbers directly, with no value list.
 */
function numberFastPath(a: Operand, b: Operand, op: RelOp): Predicate | undefined {
  if (a.fieldId === undefined || b.kind !== 'literal' || !isNumeric(a.type)) return undefined
  const lit = b.load(undefined as unknown as DissectedPacket)
  if (lit.n !== 1) return undefined
  const id = a.fieldId
  const v = lit.num[0]
  const bool = a.type === 'bool'
  const val = (p: DissectedPacket, k: number): number => {
    const o = p.occurrences
    const t = o.text[k]
    const x = t !== undefined ? Number(t) : o.num[k]
    return bool ? (x !== 0 ? 1 : 0) : x
  }
  const any = (test: (x: number) => boolean): Predicate => (p) => {
    const o = p.occurrences
    for (let k = o.firstOf(id); k !== -1; k = o.next[k]) if (test(val(p, k))) return true
    return false
  }
  const all = (test: (x: number) => boolean): Predicate => (p) => {
    const o = p.occurrences
    let k = o.firstOf(id)
    if (k === -1) return false
    for (; k !== -1; k = o.next[k]) if (!test(val(p, k))) return false
    return true
  }
  switch (op) {
    case '==': return any((x) => x === v)
    case '!==': return any((x) => x !== v)
    case '!=': return all((x) => x !== v)
    case '===': return all((x) => x === v)
    case '>': return any((x) => x > v)
    case '>=': return any((x) => x >= v)
    case '<': return any((x) => x < v)
    case '<=': return any((x) => x <= v)
    default: return undefined
  }
}

/** `field in {a, b, lo..hi}`: some occurrence equals an element or lies in a range. */
function compileIn(t: Extract<Test, { k: 'in' }>, ctx: CompileContext): Predicate {
  if (t.a.k !== 'word' || isLiteralExpr(t.a, ctx)) {
    if (t.a.k === 'word') compileExpr(t.a, ctx)
    throw new DisplayFilterError('only a field may be tested for membership in a set', t.pos)
  }
  const a = compileExpr(t.a, ctx)
  const order = orderFor(a.type)
  const element = (e: Expr): Operand => {
    const o = compileExpr(e, ctx, a.type, a)
    if (!compatible(a.type, o.type)) throw new DisplayFilterError(`${a.text} and ${o.text} are not of compatible types`, o.pos)
    return o
  }
  const values: Operand[] = []
  const ranges: Array<[Operand, Operand]> = []
  for (const item of t.items) {
    if (item.k === 'value') values.push(element(item.v))
    else ranges.push([element(item.lo), element(item.hi)])
  }
  return (p) => {
    const x = a.load(p)
    for (let i = 0; i < x.n; i++) {
      for (const v of values) {
        const y = v.load(p)
        for (let j = 0; j < y.n; j++) if (order(x, i, y, j) === 0) return true
      }
      for (const [lo, hi] of ranges) {
        const l = lo.load(p), h = hi.load(p)
        for (let j = 0; j < l.n; j++) {
          if (order(x, i, l, j) < 0) continue
          for (let k = 0; k < h.n; k++) if (order(x, i, h, k) <= 0) return true
        }
      }
    }
    return false
  }
}
