/**
 * The syntax tree of a pcap-filter(7) expression, as the parser builds it and the code generator
 * walks it (left to right, which matters: `vlan` shifts the offsets of what follows it).
 */

/** The protocol qualifier of a primitive (`ether`, `ip`, `tcp`, ...), or undefined for none. */
export type ProtoQual = string | undefined
/** The direction qualifier. */
export type DirQual = 'src' | 'dst' | 'src or dst' | 'src and dst' | undefined
/** The type qualifier. */
export type TypeQual = 'host' | 'net' | 'port' | 'portrange' | 'proto' | 'protochain' | 'gateway' | undefined

/** The qualifiers in front of an id (`tcp dst port`); inherited by a bare id that follows. */
export interface Qualifiers {
  proto: ProtoQual
  dir: DirQual
  type: TypeQual
}

/** An id: what follows the qualifiers. */
export interface IdValue {
  kind: 'num' | 'hid' | 'hid6' | 'eid' | 'id'
  text: string
  value: number
  /** `/len` after a network, or `mask M`. */
  prefix?: number
  mask?: string
  /** `a-b` of a portrange. */
  rangeEnd?: string
  pos: number
}

/** An arithmetic expression (the operands of a relation). */
export type Arith =
  | { k: 'num'; v: number }
  | { k: 'len' }
  | { k: 'load'; proto: string; index: Arith; size: number; pos: number }
  | { k: 'bin'; op: string; l: Arith; r: Arith }
  | { k: 'neg'; e: Arith }

/** A filter expression. */
export type FilterNode =
  | { k: 'and' | 'or'; l: FilterNode; r: FilterNode }
  | { k: 'not'; e: FilterNode }
  | { k: 'qualified'; q: Qualifiers; id: IdValue; pos: number }
  | { k: 'pname'; proto: string; pos: number }
  | { k: 'rel'; op: string; l: Arith; r: Arith; pos: number }
  | { k: 'cast'; proto: string; what: 'broadcast' | 'multicast'; pos: number }
  | { k: 'length'; op: 'less' | 'greater'; v: number; pos: number }
  | { k: 'vlan'; id?: number; pos: number }
  /** `mpls [label]`, `pppoes [session]`, `geneve [vni]`, `pppoed`, `llc [subtype]`: encapsulations (the first three move what follows). */
  | { k: 'encap'; what: 'mpls' | 'pppoes' | 'geneve' | 'pppoed' | 'llc'; id?: number; sub?: string; pos: number }
  | { k: 'direction'; out: boolean; pos: number }
