/**
 * The display-filter syntax tree, as the parser builds it and before types are known. Every node
 * keeps its offset in the expression so that type errors can name it.
 */

/** A relation operator, by its symbolic name (word forms are mapped to these). */
export type RelOp = '==' | '!=' | '===' | '!==' | '>' | '>=' | '<' | '<=' | 'contains' | 'matches'

/** An arithmetic operator (Wireshark 4.0 arithmetic), `&` being bitwise and. */
export type ArithOp = '+' | '-' | '*' | '/' | '%' | '&'

/**
 * One range of a slice or layer selection, in drange terms (wireshark-filter(4), "Slice
 * Operator"): `start` (negative counts from the end) and either `length`, an inclusive `end`,
 * or neither (to the end).
 */
export interface Range {
  start: number
  length?: number
  end?: number
}

/** A value-producing expression. */
export type Expr =
  /** A bare word: a field or protocol name when one exists, else a literal of the other side's type. */
  | { k: 'word'; text: string; pos: number; end: number; forcedField: boolean; layers?: Range[] }
  | { k: 'string'; bytes: Buffer; raw: boolean; text: string; pos: number; end: number }
  | { k: 'char'; value: number; text: string; pos: number; end: number }
  | { k: 'slice'; of: Expr; ranges: Range[]; pos: number; end: number }
  | { k: 'call'; name: string; args: Expr[]; pos: number; end: number }
  | { k: 'arith'; op: ArithOp; a: Expr; b: Expr; pos: number; end: number }
  | { k: 'neg'; a: Expr; pos: number; end: number }
  /** `${field}`: a reference to the selected packet's field (there is none when reading files). */
  | { k: 'ref'; name: string; pos: number; end: number }

/** One element of a set: a value or an inclusive range `lo..hi`. */
export type SetItem = { k: 'value'; v: Expr } | { k: 'range'; lo: Expr; hi: Expr }

/** A test: a logical combination, a relation, a set membership or a bare value (existence). */
export type Test =
  | { k: 'or' | 'and'; a: Test; b: Test; pos: number }
  | { k: 'not'; a: Test; pos: number }
  /** Quantified comparison: `any` (==, !==, >, ...) or `all` (!=, ===). */
  | { k: 'rel'; op: RelOp; a: Expr; b: Expr; pos: number; opPos: number }
  | { k: 'in'; a: Expr; items: SetItem[]; pos: number }
  | { k: 'exists'; e: Expr; pos: number }
