/**
 * The display-filter parser: tokens to a syntax tree, with Wireshark 4.0's grammar and
 * precedence (wireshark-filter(4); epan/dfilter/grammar.lemon): `or` < `and` < `not` <
 * relations < `&` < `+ -` < `* / %` < unary minus < slices. Relations do not chain
 * (`a == 1 == 2` is refused); 4.0 has no `xor`. Arithmetic is grouped with `{ }`, parentheses
 * group tests only.
 */
import { DisplayFilterError } from '../errors.js'
import type { ArithOp, Expr, Range, RelOp, SetItem, Test } from './ast.js'
import { tokenize, type Token } from './lexer.js'

/** Relation operators and their word forms (4.0 has any_eq, all_ne, any_ne, all_eq). */
const REL: Record<string, RelOp> = {
  '==': '==', eq: '==', any_eq: '==',
  '!=': '!=', ne: '!=', all_ne: '!=',
  '!==': '!==', any_ne: '!==',
  '===': '===', all_eq: '===',
  '>': '>', gt: '>', '>=': '>=', ge: '>=', '<': '<', lt: '<', '<=': '<=', le: '<=',
  contains: 'contains', matches: 'matches', '~': 'matches',
}

/** Words that are operators, never field names or values. */
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'contains', 'matches', 'bitwise_and', 'eq', 'ne', 'gt', 'ge', 'lt', 'le', 'any_eq', 'all_ne', 'any_ne', 'all_eq'])

/** Parses a display filter into its syntax tree; throws DisplayFilterError with the offset. */
export function parseDisplayFilter(expr: string): Test {
  const p = new Parser(tokenize(expr))
  if (p.peek().type === 'eof') throw new DisplayFilterError('the filter expression is empty', 0)
  const t = p.orTest()
  p.expectEnd()
  return t
}

class Parser {
  private i = 0
  constructor(private readonly toks: Token[]) {}

  peek(n = 0): Token { return this.toks[Math.min(this.i + n, this.toks.length - 1)] }
  private take(): Token { return this.toks[this.i++] }
  private isWord(t: Token, w: string): boolean { return t.type === 'word' && t.text === w }

  private unexpected(t: Token): never {
    if (t.type === 'eof') throw new DisplayFilterError('unexpected end of filter expression', t.pos)
    throw new DisplayFilterError(`"${t.text}" was unexpected in this context`, t.pos)
  }

  expectEnd(): void {
    if (this.peek().type !== 'eof') this.unexpected(this.peek())
  }

  private expect(type: Token['type']): Token {
    const t = this.peek()
    if (t.type !== type) this.unexpected(t)
    return this.take()
  }

  orTest(): Test {
    let a = this.andTest()
    for (;;) {
      const t = this.peek()
      if (!(t.type === '||' || this.isWord(t, 'or'))) return a
      this.take()
      a = { k: 'or', a, b: this.andTest(), pos: t.pos }
    }
  }

  private andTest(): Test {
    let a = this.notTest()
    for (;;) {
      const t = this.peek()
      if (!(t.type === '&&' || this.isWord(t, 'and'))) return a
      this.take()
      a = { k: 'and', a, b: this.notTest(), pos: t.pos }
    }
  }

  private notTest(): Test {
    const t = this.peek()
    if (t.type === '!' || this.isWord(t, 'not')) {
      this.take()
      return { k: 'not', a: this.notTest(), pos: t.pos }
    }
    if (t.type === '(') {
      this.take()
      const inner = this.orTest()
      this.expect(')')
      return inner
    }
    return this.relation()
  }

  private relation(): Test {
    const a = this.arith()
    const t = this.peek()
    const op = (t.type === 'word' || t.type === t.text) && Object.hasOwn(REL, t.text) ? REL[t.text] : undefined
    if (op !== undefined) {
      this.take()
      return { k: 'rel', op, a, b: this.arith(), pos: exprPos(a), opPos: t.pos }
    }
    if (this.isWord(t, 'in')) {
      this.take()
      return { k: 'in', a, items: this.set(), pos: exprPos(a) }
    }
    if (this.isWord(t, 'not') && this.isWord(this.peek(1), 'in')) {
      this.take(); this.take()
      return { k: 'not', a: { k: 'in', a, items: this.set(), pos: exprPos(a) }, pos: t.pos }
    }
    return { k: 'exists', e: a, pos: exprPos(a) }
  }

  /** `{ a, b..c, ... }`: at least one element, separated by commas. */
  private set(): SetItem[] {
    this.expect('{')
    const items: SetItem[] = []
    for (;;) {
      const lo = this.arith()
      if (this.peek().type === '..') {
        this.take()
        items.push({ k: 'range', lo, hi: this.arith() })
      } else {
        items.push({ k: 'value', v: lo })
      }
      const t = this.take()
      if (t.type === '}') return items
      if (t.type !== ',') this.unexpected(t)
    }
  }

  private arith(): Expr { return this.binary(0) }

  /** Binary arithmetic by precedence level: `&`, then `+ -`, then `* / %`. */
  private binary(level: number): Expr {
    if (level === 3) return this.unary()
    const ops: readonly string[][] = [['&', 'bitwise_and'], ['+', '-'], ['*', '/', '%']]
    let a = this.binary(level + 1)
    for (;;) {
      const t = this.peek()
      if (!((t.type === 'word' || t.type === t.text) && ops[level].includes(t.text))) return a
      this.take()
      const b = this.binary(level + 1)
      a = { k: 'arith', op: (t.text === 'bitwise_and' ? '&' : t.text) as ArithOp, a, b, pos: exprPos(a), end: exprEnd(b) }
    }
  }

  private unary(): Expr {
    const t = this.peek()
    if (t.type === '-') {
      this.take()
      const a = this.unary()
      return { k: 'neg', a, pos: t.pos, end: exprEnd(a) }
    }
    let e = this.primary()
    while (this.peek().type === 'range') {
      const r = this.take()
      e = { k: 'slice', of: e, ranges: parseRanges(r.text, r.pos + 1, 'slice'), pos: exprPos(e), end: r.end }
    }
    return e
  }

  private primary(): Expr {
    const t = this.take()
    switch (t.type) {
      case 'string':
        return { k: 'string', bytes: t.bytes!, raw: t.raw === true, text: t.text, pos: t.pos, end: t.end }
      case 'char':
        return { k: 'char', value: t.bytes![0], text: t.text, pos: t.pos, end: t.end }
      case '{': {
        const e = this.arith()
        this.expect('}')
        return e
      }
      case '${': {
        const w = this.expect('word')
        const close = this.expect('}')
        return { k: 'ref', name: w.text, pos: t.pos, end: close.end }
      }
      case 'word': {
        if (KEYWORDS.has(t.text)) this.unexpected(t)
        if (this.peek().type === '(') return this.call(t)
        const word: Expr = { k: 'word', text: t.text.startsWith('.') ? t.text.slice(1) : t.text, pos: t.pos, end: t.end, forcedField: t.text.startsWith('.') }
        if (this.peek().type === '#') {
          this.take()
          const l = this.take()
          if (l.type === 'range') word.layers = parseRanges(l.text, l.pos + 1, 'layer')
          else if (l.type === 'word' && /^\d+$/.test(l.text)) word.layers = [{ start: Number(l.text), length: 1 }]
          else throw new DisplayFilterError(`expected digit or "[", not "${l.text}"`, l.pos)
          word.end = l.end
        }
        return word
      }
      default:
        return this.unexpected(t)
    }
  }

  private call(name: Token): Expr {
    this.expect('(')
    const args: Expr[] = []
    if (this.peek().type !== ')') {
      for (;;) {
        args.push(this.arith())
        const t = this.take()
        if (t.type === ')') break
        if (t.type !== ',') this.unexpected(t)
      }
    } else {
      this.take()
    }
    return { k: 'call', name: name.text, args, pos: name.pos, end: this.toks[this.i - 1].end }
  }
}

/** Where an expression starts and ends in the filter text. */
export function exprPos(e: Expr): number { return e.pos }
export function exprEnd(e: Expr): number { return e.end }

/**
 * The ranges of `[...]`, comma separated: `i:j` (start, length), `i-j` (start, inclusive end),
 * `i` (one), `:j` (from 0), `i:` (to the end). Refused as 4.0 refuses them: a length that is
 * not positive, `i-j` with i >= j or with different signs.
 */
export function parseRanges(text: string, pos: number, what: 'slice' | 'layer'): Range[] {
  const out: Range[] = []
  let at = pos
  for (const part of text.split(',')) {
    const s = part.trim()
    const bad = (why: string): never => { throw new DisplayFilterError(`range ${s} isn't valid because ${why}`, at) }
    let m: RegExpExecArray | null
    if ((m = /^(-?\d+)?:(-?\d+)?$/.exec(s)) && (m[1] !== undefined || m[2] !== undefined || what === 'slice')) {
      const start = m[1] === undefined ? 0 : Number(m[1])
      if (m[2] === undefined) out.push({ start })
      else {
        const length = Number(m[2])
        if (length <= 0) bad(`length ${length} isn't positive`)
        out.push({ start, length })
      }
    } else if ((m = /^(-?\d+)-(-?\d+)$/.exec(s))) {
      const start = Number(m[1])
      const end = Number(m[2])
      if ((start < 0) !== (end < 0)) bad(`${start} and ${end} have different signs`)
      if (start >= end) bad(`${start} is greater or equal than ${end}`)
      out.push({ start, end })
    } else if ((m = /^(-?\d+)$/.exec(s))) {
      out.push({ start: Number(m[1]), length: 1 })
    } else {
      throw new DisplayFilterError(`"${s}" is not a valid range`, at)
    }
    at += part.length + 1
  }
  return out
}
