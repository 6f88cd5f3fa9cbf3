/**
 * `io,phs`: the protocol hierarchy (tshark's ui/cli/tap-protohierstat.c). Each packet walks its
 * decoded layers from the link layer down, adding one frame and the frame's length to every node
 * on the path. Protocols-in-name-only (dotted names such as `ipv6.hopopts`) are no nodes, as in
 * tshark; the dissector-table labels of frame.protocols (`ethertype`) are no layers at all.
 */
import type { DissectedPacket } from '../dissect/dissected-packet.js'
import type { StatsTap } from './tap.js'

/** One node of the hierarchy. */
export interface ProtocolNode { name: string; frames: number; bytes: number; children: ProtocolNode[] }

/** The protocol hierarchy of a run. */
export class ProtocolHierarchyTap implements StatsTap {
  readonly fields: string[] = []
  readonly allLayers = true
  readonly root: ProtocolNode = { name: '', frames: 0, bytes: 0, children: [] }

  constructor(readonly spec: string, readonly filterText?: string) {}

  add(p: DissectedPacket): void {
    let node = this.root
    node.frames++
    node.bytes += p.origLen
    for (let i = 0; i < p.layerCount; i++) {
      const name = p.layer(i).name
      if (name.includes('.')) continue
      let next = node.children.find((c) => c.name === name)
      if (next === undefined) node.children.push(next = { name, frames: 0, bytes: 0, children: [] })
      next.frames++
      next.bytes += p.origLen
      node = next
      // An ICMP error quotes the headers of the packet it is about: they are inside the ICMP
      // layer, not below it (tshark's hierarchy ends there too).
      if (name === 'icmp' || name === 'icmpv6') break
    }
  }

  text(): string {
    const bar = '==================================================================='
    let out = `\n${bar}\nProtocol Hierarchy Statistics\nFilter: ${this.filterText ?? ''}\n\n`
    const walk = (n: ProtocolNode, depth: number) => {
      for (const c of n.children) {
        out += `${' '.repeat(depth * 2)}${c.name}`.padEnd(40) + ` frames:${c.frames} bytes:${c.bytes}\n`
        walk(c, depth + 1)
      }
    }
    walk(this.root, 0)
    return out + `${bar}\n`
  }

  json(): unknown {
    const strip = (n: ProtocolNode): unknown => ({ protocol: n.name, frames: n.frames, bytes: n.bytes, children: n.children.map(strip) })
    return this.root.children.map(strip)
  }
}
