/**
 * The files of a new dissector plugin package (`netkit dissectors new`): package.json, the
 * dissector (TypeScript or JavaScript), a node:test test that builds a packet of the protocol
 * and dissects it, and a README. The protocol is a small made-up one (version, type, flags, a
 * length, a text payload) that shows each part of the API once: preferences, value strings,
 * bitmask fields, the summary line and, over TCP, whole messages from the stream.
 */

/** Where the new dissector is reached from. */
export type ScaffoldTransport = { udp: number } | { tcp: number } | { heuristic: string }

/** What `netkit dissectors new` was asked for. */
export interface ScaffoldOptions {
  name: string
  where: ScaffoldTransport
  /** JavaScript instead of TypeScript. */
  js?: boolean
}

/** Whether `name` can name a dissector and its fields (`nkp`, `my_proto`). */
export function validScaffoldName(name: string): boolean {
  return /^[a-z][a-z0-9_]{0,31}$/.test(name)
}

/** The files to write, by path relative to the package folder. */
export function scaffoldFiles(o: ScaffoldOptions): Record<string, string> {
  const main = o.js ? 'index.js' : 'index.ts'
  return {
    'package.json': packageJson(o, main),
    [main]: dissectorSource(o),
    'index.test.js': testSource(o, main),
    'README.md': readme(o, main),
  }
}

function packageJson(o: ScaffoldOptions, main: string): string {
  return JSON.stringify({
    name: `netkit-dissector-${o.name.replace(/_/g, '-')}`,
    version: '0.1.0',
    description: `A netkit dissector for ${o.name.toUpperCase()}`,
    type: 'module',
    main,
    exports: `./${main}`,
    files: [main, 'README.md'],
    keywords: ['netkit', 'netkit-dissector'],
    scripts: { test: 'node --test' },
    peerDependencies: { netkit: '>=0.1.0' },
    license: 'MIT',
  }, null, 2) + '\n'
}

/** The transport a test packet uses, and its port. */
function transportOf(where: ScaffoldTransport): { proto: 'udp' | 'tcp'; port: number; decodeAs?: string } {
  if ('udp' in where) return { proto: 'udp', port: where.udp }
  if ('tcp' in where) return { proto: 'tcp', port: where.tcp }
  if (where.heuristic === 'tcp.port') return { proto: 'tcp', port: 40000 }
  if (where.heuristic === 'udp.port') return { proto: 'udp', port: 40000 }
  // A heuristic on another table: the test reaches it over UDP with Decode-As.
  return { proto: 'udp', port: 40000, decodeAs: 'udp.port==40000' }
}

function dissectorSource(o: ScaffoldOptions): string {
  const n = o.name
  const ts = !o.js
  const t = transportOf(o.where)
  const heuristic = 'heuristic' in o.where
  const table = t.proto === 'tcp' ? 'TCP_PORT' : 'UDP_PORT'
  const reach = heuristic
    ? `  // Claims payloads of ${(o.where as { heuristic: string }).heuristic} that look like ${n.toUpperCase()} (no port of its own).
  heuristic: [${JSON.stringify((o.where as { heuristic: string }).heuristic)}],
  recognize: (view) => view.has(0, HEADER_LENGTH) && view.u8(0) === VERSION && view.u16(2) === view.reported,
`
    : `  // Users move it with -o ${n}.port:N or "preferences": { "${n}": { "port": N } } in the config.
  preferences: {
    port: { type: 'uint', default: ${t.port}, description: '${t.proto.toUpperCase()} port of ${n.toUpperCase()}' },
  },
  register: (prefs) => [{ table: Table.${table}, key: ${ts ? 'prefs.port as number' : 'prefs.port'} }],
`
  const body = `    ctx.add(f.version, 0, 1)
    const type = ctx.add(f.type, 1, 1)
    ctx.add(f.urgent, 1, 1)
    ctx.add(f.kind, 1, 1)
    const length = ctx.add(f.length, 2, 2)
    if (length < HEADER_LENGTH) return ctx.malformed(\`length \${length} is shorter than the header\`)
    ctx.add(f.payload, HEADER_LENGTH, Math.min(length, view.reported) - HEADER_LENGTH)
    if (ctx.wantsInfo) ctx.info(\`: ${n.toUpperCase()} \${TYPES[type] ?? \`type \${type}\`}, length \${length}\`, true)`
  const dissect = t.proto === 'tcp'
    ? `  // Over TCP a message may span segments, or a segment hold several: dissectPdus reads the
  // length from the header and calls dissect once per whole message (Wireshark's tcp_dissect_pdus).
  dissect: dissectPdus({
    headerLength: HEADER_LENGTH,
    messageLength: (view) => view.u16(2),
    dissect(view, ctx, f) {
  ${body.split('\n').join('\n  ')}
    },
  }),
`
    : `  dissect(view, ctx, f) {
${body}
  },
`
  const imports = ['defineDissector', ...(t.proto === 'tcp' ? ['dissectPdus'] : []), ...(heuristic ? [] : ['Table'])]
  return `// ${n.toUpperCase()}: a netkit dissector (see netkit's docs/plugins.md).
// Each message: version (1 byte), type (1 byte, of which the top bit says "urgent"), length of
// the whole message (2 bytes, big-endian), then a text payload.
import { ${imports.join(', ')} } from 'netkit/plugin'

const VERSION = 1
const HEADER_LENGTH = 4

/** Names of the message types, shown by -T verbose and usable in -Y (${n}.kind == hello). */
const TYPES${ts ? ': Record<number, string>' : ''} = { 1: 'hello', 2: 'data', 3: 'bye' }

export default defineDissector({
  name: '${n}',
  title: '${n.toUpperCase()} Protocol',
  fields: {
    version: { name: '${n}.version', type: 'uint', label: 'Version' },
    type: { name: '${n}.type', type: 'uint', hexDigits: 2, label: 'Type' },
    urgent: { name: '${n}.type.urgent', type: 'bool', bitmask: 0x80, label: 'Urgent' },
    kind: { name: '${n}.kind', type: 'uint', bitmask: 0x7f, values: TYPES, label: 'Kind' },
    length: { name: '${n}.length', type: 'uint', label: 'Length' },
    payload: { name: '${n}.payload', type: 'string', label: 'Payload' },
  },
${reach}  handsOn: [],
${dissect}})
`
}

function testSource(o: ScaffoldOptions, main: string): string {
  const n = o.name
  const t = transportOf(o.where)
  const settings = t.decodeAs ? `, { decodeAs: ['${t.decodeAs},${n}'] }` : ''
  return `// Dissects a ${n.toUpperCase()} message in a packet built here, with the dissector in ${main}.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { dissect, loadPlugins } from 'netkit'

const plugin = fileURLToPath(new URL('./${main}', import.meta.url))

/** A ${n.toUpperCase()} message: version 1, \`type\`, the length, \`text\`. */
function message(type, text) {
  const m = Buffer.alloc(4 + text.length)
  m[0] = 1
  m[1] = type
  m.writeUInt16BE(m.length, 2)
  m.write(text, 4, 'latin1')
  return m
}

/** An Ethernet/IPv4/${t.proto.toUpperCase()} frame from 10.0.0.1:50000 to 10.0.0.2:\`port\` carrying \`payload\`. */
function frame(payload, port) {
  const l4 = ${t.proto === 'tcp' ? '20' : '8'}
  const f = Buffer.alloc(34 + l4 + payload.length)
  f.write('02000000000202000000000108004500', 0, 'hex')
  f.writeUInt16BE(20 + l4 + payload.length, 16)
  f[22] = 64
  f[23] = ${t.proto === 'tcp' ? '6' : '17'}
  f.set([10, 0, 0, 1, 10, 0, 0, 2], 26)
  f.writeUInt16BE(50000, 34)
  f.writeUInt16BE(port, 36)
${t.proto === 'tcp' ? `  f.writeUInt32BE(1000, 38) // sequence number
  f[46] = 0x50 // header length 20
  f[47] = 0x18 // PSH, ACK
  f.writeUInt16BE(65535, 48)` : `  f.writeUInt16BE(8 + payload.length, 38)`}
  payload.copy(f, 34 + l4)
  return f
}

test('${n} decodes a message', async () => {
  const registry = await loadPlugins([plugin]${settings})
  const packet = await dissect(frame(message(0x82, 'hi there'), ${t.port}), { registry })
  assert.equal(packet.layers.at(-1)?.name, '${n}')
  assert.equal(packet.get('${n}.version'), 1)
  assert.equal(packet.get('${n}.type.urgent'), true)
  assert.equal(packet.get('${n}.kind'), 2)
  assert.equal(packet.get('${n}.length'), 12)
  assert.equal(packet.get('${n}.payload'), 'hi there')
})
`
}

function readme(o: ScaffoldOptions, main: string): string {
  const n = o.name
  return `# netkit-dissector-${n.replace(/_/g, '-')}

A [netkit](https://www.npmjs.com/package/netkit) dissector for ${n.toUpperCase()}.

- \`${main}\`: the dissector; \`index.test.js\`: its test (\`npm test\`).
- Load it by adding this folder (or, once installed, the package name) to a netkit
  configuration, e.g. \`.netkitrc.json\`: \`{ "plugins": ["netkit-dissector-${n.replace(/_/g, '-')}"] }\`.
- Check it: \`netkit dissectors --check .\`; see it: \`netkit dissectors ${n}\`.
- Read a capture: \`netkit read -r file.pcap -Y ${n} -T verbose\`${'heuristic' in o.where ? '' : `; on another port: \`-o ${n}.port:N\``}, or
  \`-d ${'tcp' in o.where ? 'tcp' : 'udp'}.port==N,${n}\`.
`
}
