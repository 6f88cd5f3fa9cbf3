/**
 * PacketFields: the field values of the packet being dissected, in preallocated typed arrays.
 * Each value is an occurrence (field id, number, or a byte range of the packet, or text);
 * occurrences of one field chain together in order. Nothing is allocated per packet: a
 * generation counter empties the store without clearing it.
 */

/** Where one layer's fields and bytes are. */
export interface LayerRecord {
  name: string
  /** Absolute offset and captured length of the layer in the packet. */
  start: number
  length: number
  /** First and one-past-last occurrence index of its fields. */
  firstOcc: number
  endOcc: number
  status: 'ok' | 'truncated' | 'malformed'
  reason?: string
}

/** The field store of one packet at a time. */
export class PacketFields {
  /** Occurrences: field id, numeric value, byte offset/length (-1 for numbers), text (rare). */
  field: Int32Array
  num: Float64Array
  off: Int32Array
  len: Int32Array
  text: Array<string | undefined>
  /** The buffer a byte range lies in (the batch, or a PDU reassembled across segments). */
  buf: Array<Buffer | undefined>
  next: Int32Array
  count = 0
  /** Per field id: first and last occurrence, valid when gen matches. */
  private readonly first: Int32Array
  private readonly last: Int32Array
  private readonly gen: Uint32Array
  private generation = 1
  /** Layers of the packet, reused. */
  readonly layers: LayerRecord[] = []
  layerCount = 0

  constructor(fieldCount: number, capacity = 256) {
    this.field = new Int32Array(capacity)
    this.num = new Float64Array(capacity)
    this.off = new Int32Array(capacity)
    this.len = new Int32Array(capacity)
    this.text = new Array(capacity)
    this.buf = new Array(capacity)
    this.next = new Int32Array(capacity)
    this.first = new Int32Array(fieldCount)
    this.last = new Int32Array(fieldCount)
    this.gen = new Uint32Array(fieldCount)
  }

  /** Empties the store for the next packet. */
  reset(): void {
    this.count = 0
    this.layerCount = 0
    this.generation++
  }

  /** Appends a number occurrence of `id`. */
  pushNumber(id: number, num: number): void {
    const k = this.slot(id)
    this.num[k] = num
    this.off[k] = -1
    if (this.text[k] !== undefined) this.text[k] = undefined
    // Let go of the buffer an earlier packet's bytes were in (a reassembled PDU can be large).
    if (this.buf[k] !== undefined) this.buf[k] = undefined
  }

  /** Appends an occurrence of `id` that is the bytes buf[off, off + len). */
  pushBytes(id: number, off: number, len: number, buf: Buffer): void {
    const k = this.slot(id)
    this.off[k] = off
    this.len[k] = len
    this.buf[k] = buf
    if (this.text[k] !== undefined) this.text[k] = undefined
  }

  /** Appends a text occurrence of `id`. */
  pushText(id: number, text: string): void {
    const k = this.slot(id)
    this.off[k] = -1
    this.text[k] = text
    if (this.buf[k] !== undefined) this.buf[k] = undefined
  }

  /** Takes the next occurrence index for `id` and links it into the field's chain. */
  private slot(id: number): number {
    if (this.count === this.field.length) this.grow()
    const k = this.count++
    this.field[k] = id
    this.next[k] = -1
    if (this.gen[id] !== this.generation) {
      this.gen[id] = this.generation
      this.first[id] = k
    } else {
      this.next[this.last[id]] = k
    }
    this.last[id] = k
    return k
  }

  /** Removes the occurrences from `count` on (a layer given up), keeping the chains right. */
  rollback(count: number): void {
    if (count >= this.count) return
    const touched = new Set<number>()
    for (let k = count; k < this.count; k++) touched.add(this.field[k])
    this.count = count
    for (const id of touched) {
      this.gen[id] = 0
      for (let k = 0; k < count; k++) {
        if (this.field[k] !== id) continue
        if (this.gen[id] !== this.generation) { this.gen[id] = this.generation; this.first[id] = k }
        else this.next[this.last[id]] = k
        this.last[id] = k
        this.next[k] = -1
      }
    }
  }

  /** First occurrence of field `id`, or -1. */
  firstOf(id: number): number {
    return this.gen[id] === this.generation ? this.first[id] : -1
  }

  /** Starts a layer record. */
  openLayer(name: string, start: number, length: number): LayerRecord {
    let l = this.layers[this.layerCount]
    if (!l) this.layers.push((l = { name, start, length, firstOcc: 0, endOcc: 0, status: 'ok' }))
    l.name = name
    l.start = start
    l.length = length
    l.firstOcc = this.count
    l.endOcc = this.count
    l.status = 'ok'
    l.reason = undefined
    this.layerCount++
    return l
  }

  private grow(): void {
    const n = this.field.length * 2
    const g = <T extends Int32Array | Float64Array>(a: T, C: new (n: number) => T): T => { const b = new C(n); b.set(a); return b }
    this.field = g(this.field, Int32Array)
    this.num = g(this.num, Float64Array)
    this.off = g(this.off, Int32Array)
    this.len = g(this.len, Int32Array)
    this.next = g(this.next, Int32Array)
    this.text.length = n
    this.buf.length = n
  }
}
