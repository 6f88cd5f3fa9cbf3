/**
 * Test packets for the display-filter suites: a real DissectorRegistry (the shipped plugins and
 * the `frame` pseudo-protocol every registry has) and a builder that fills a
 * PacketFields store by hand, so each test states the occurrences a packet has.
 */
import { DissectedPacket } from '../../src/dissect/dissected-packet.js'
import { InfoLine } from '../../src/dissect/info-line.js'
import { PacketFields } from '../../src/dissect/packet-fields.js'
import { loadDissectors } from '../../src/dissect/plugin-loader.js'
import type { DissectorRegistry } from '../../src/dissect/registry.js'
import { compileDisplayFilter } from '../../src/dfilter/index.js'

const loaded = await loadDissectors({ builtinPlugins: true, plugins: [] } as never)
/** The registry every display-filter test compiles against. */
export const registry: DissectorRegistry = loaded.registry

/** Writes a packet's occurrences: layers, then their fields in order. */
export class PacketBuilder {
  readonly store = new PacketFields(registry.fields.length)
  private layer: ReturnType<PacketFields['openLayer']> | undefined

  private id(name: string): number {
    const id = registry.fieldByName.get(name)
    if (id === undefined) throw new Error(`test packet: no field ${name}`)
    return id
  }

  private close(): void {
    if (this.layer) this.layer.endOcc = this.store.count
  }

  /** Opens layer `name` whose bytes are `bytes` (recorded as the protocol's occurrence). */
  proto(name: string, bytes: number[] | string = []): this {
    this.close()
    const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes)
    this.layer = this.store.openLayer(name, 0, b.length)
    this.store.pushBytes(this.id(name), 0, b.length, b)
    return this
  }

  /** A number occurrence. */
  num(name: string, ...values: number[]): this {
    for (const v of values) this.store.pushNumber(this.id(name), v)
    return this
  }

  /** A byte occurrence (addresses, byte fields, strings as bytes). */
  bytes(name: string, value: number[] | string): this {
    const b = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value)
    // Put it at an offset inside a larger buffer, as real occurrences are.
    const padded = Buffer.concat([Buffer.from([0xee, 0xee]), b, Buffer.from([0xee])])
    this.store.pushBytes(this.id(name), 2, b.length, padded)
    return this
  }

  /** A text occurrence (fields recorded with setText). */
  text(name: string, value: string): this {
    this.store.pushText(this.id(name), value)
    return this
  }

  /** The packet. */
  build(): DissectedPacket {
    this.close()
    const p = new DissectedPacket(registry, this.store, this.store.layers, [], new InfoLine())
    p.layerCount = this.store.layerCount
    return p
  }
}

/** Starts a packet. */
export function packet(): PacketBuilder {
  return new PacketBuilder()
}

/** Whether `expr` matches packet `p`. */
export function matches(expr: string, p: DissectedPacket): boolean {
  return compileDisplayFilter(expr, registry).match(p)
}

/** An IPv4 address's bytes. */
export function ip(text: string): number[] {
  return text.split('.').map(Number)
}

/** A TCP/IP packet from 10.0.0.1:1234 to 10.0.0.2:80 with the given TCP flags. */
export function tcpPacket(flags = 0x02): DissectedPacket {
  return packet()
    .proto('eth', [0, 1, 2, 3, 4, 5, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 8, 0])
    .bytes('eth.dst', [0, 1, 2, 3, 4, 5]).bytes('eth.src', [0x10, 0x11, 0x12, 0x13, 0x14, 0x15]).num('eth.type', 0x0800)
    .proto('ip', [0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2])
    .num('ip.ttl', 64).num('ip.proto', 6)
    .bytes('ip.src', ip('10.0.0.1')).bytes('ip.dst', ip('10.0.0.2')).bytes('ip.addr', ip('10.0.0.1')).bytes('ip.addr', ip('10.0.0.2'))
    .proto('tcp', [0x04, 0xd2, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0])
    .num('tcp.srcport', 1234).num('tcp.dstport', 80).num('tcp.port', 1234, 80)
    .num('tcp.flags', flags).num('tcp.flags.syn', flags & 2 ? 1 : 0).num('tcp.flags.ack', flags & 0x10 ? 1 : 0)
    .num('frame.number', 1).num('frame.len', 54)
    .build()
}
