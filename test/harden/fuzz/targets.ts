/**
 * The fuzz targets of `npm run fuzz` (#24): every parser that takes outside bytes or text, each a
 * fast-check property. A finding is an error escaping its layer (anything but the layer's own
 * NetkitError), a hang, memory growing without bound, or two parsers disagreeing. Inputs are
 * mutated corpus material (../shared/corpus) and generated text; each finding, once fixed, is
 * kept as a case in regressions.ts.
 */
import fc from 'fast-check'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, DisplayFilterError, FileFormatError, FilterSyntaxError, NetkitError } from '../../../src/errors.js'
import { validateConfig } from '../../../src/config.js'
import { openCaptureFile } from '../../../src/pcap/file-reader.js'
import { RecordKind } from '../../../src/pcap/record-batch.js'
import { compileFilter } from '../../../src/filter/index.js'
import { compileDisplayFilter } from '../../../src/dfilter/index.js'
import { loadDissectors } from '../../../src/dissect/plugin-loader.js'
import { DissectionEngine } from '../../../src/dissect/engine.js'
import type { DissectorRegistry } from '../../../src/dissect/registry.js'
import { ResponseParser, type ResponseParserOwner } from '../../../src/http/response-parser.js'
import { HttpWireParser, type WireMessage } from '../../../src/stream/http-wire.js'
import { corpus } from '../../helpers/cli.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProperty = fc.IRawProperty<any, boolean>

/** A fuzz target: a property to check, given how long it may run. */
export interface FuzzTarget {
  name: string
  /** What it feeds, to what. */
  what: string
  /** Why it cannot run here, or false. */
  skip?: () => string | false
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  property(): AnyProperty | Promise<AnyProperty>
}

const scratch = mkdtempSync(join(process.platform === 'linux' ? '/dev/shm' : tmpdir(), 'netkit-fuzz-'))
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }))
let serial = 0

/** The corpus files of one kind (pcap or pcapng), as bytes, smallest first (at most `limit`). */
function corpusFiles(ext: string, limit = 40): Buffer[] {
  const out: Array<{ size: number; bytes: Buffer }> = []
  for (const sub of ['tcpdump', 'pcapng']) {
    let names: string[] = []
    try { names = readdirSync(join(corpus, sub)) } catch { continue }
    for (const n of names) {
      if (!n.endsWith(`.${ext}`)) continue
      const bytes = readFileSync(join(corpus, sub, n))
      if (bytes.length <= 256 * 1024) out.push({ size: bytes.length, bytes })
    }
  }
  return out.sort((a, b) => a.size - b.size).slice(0, limit).map((f) => f.bytes)
}

/** A mutation of `base`: byte flips, overwrites, cuts and insertions at random places. */
function mutated(base: Buffer[]): fc.Arbitrary<Buffer> {
  const edit = fc.record({
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    op: fc.constantFrom('flip', 'set', 'cut', 'insert', 'truncate'),
    value: fc.integer({ min: 0, max: 255 }),
    len: fc.integer({ min: 1, max: 64 }),
  })
  return fc.tuple(fc.integer({ min: 0, max: base.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 8 })).map(([i, edits]) => {
    let b = Buffer.from(base[i])
    for (const e of edits) {
      const at = Math.floor(e.at * b.length)
      switch (e.op) {
        case 'flip': if (at < b.length) b[at] ^= 1 << (e.value & 7); break
        case 'set': for (let k = 0; k < e.len && at + k < b.length; k++) b[at + k] = e.value; break
        case 'cut': b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.len)]); break
        case 'insert': b = Buffer.concat([b.subarray(0, at), Buffer.alloc(e.len, e.value), b.subarray(at)]); break
        case 'truncate': b = b.subarray(0, at); break
      }
    }
    return b
  })
}

/** Whether `err` is the layer's own error (a NetkitError of one of `kinds`). */
function expected(err: unknown, ...kinds: Array<abstract new (...a: never[]) => NetkitError>): boolean {
  return kinds.some((k) => err instanceof k)
}

/** Reads a whole capture file; only FileFormatError may escape. Returns the packets read. */
async function readAll(bytes: Buffer, registry?: DissectorRegistry): Promise<number> {
  const path = join(scratch, `f${serial++}`)
  writeFileSync(path, bytes)
  let packets = 0
  try {
    const reader = await openCaptureFile(path)
    const engine = registry ? new DissectionEngine(registry, { allFields: true }) : undefined
    try {
      for await (const batch of reader.batches()) {
        for (let i = 0; i < batch.count; i++) {
          if (batch.kind[i] !== RecordKind.packet) continue
          packets++
          if (engine) {
            const p = engine.dissect(batch, i)
            p.protocolsText()
          }
        }
      }
    } finally {
      await reader.close()
    }
  } catch (err) {
    if (!expected(err, FileFormatError)) throw err
  } finally {
    rmSync(path, { force: true })
  }
  return packets
}

let registryPromise: Promise<DissectorRegistry> | undefined
function shippedRegistry(): Promise<DissectorRegistry> {
  registryPromise ??= loadDissectors(validateConfig({ plugins: [] })).then((l) => l.registry)
  return registryPromise
}

// ---- pcap-filter(7) expressions, for the tcpdump -d comparison

const filterWord = fc.oneof(
  fc.constantFrom('tcp', 'udp', 'icmp', 'ip', 'ip6', 'arp', 'vlan', 'ether', 'host', 'net', 'port', 'portrange', 'src', 'dst',
    'and', 'or', 'not', '(', ')', 'broadcast', 'multicast', 'less', 'greater', 'proto', 'len', '[', ']', ':', '&', '|', '=', '!=',
    '>', '<', '+', '-', '*', '/', 'tcp[tcpflags]', 'tcp-syn', 'gateway', 'mpls', 'pppoes', 'geneve', 'icmp-echo', 'icmp[icmptype]',
    'protochain', 'ip6', 'http', 'ftp-data', '1-2-3', '80-http'),
  fc.integer({ min: 0, max: 70000 }).map(String),
  fc.constantFrom('10.0.0.1', '10.0.0.0/8', '::1', 'fe80::/10', '00:11:22:33:44:55', '0x800', '80-90', '1.2.3', 'localhost'),
)
const filterExpr = fc.array(filterWord, { minLength: 1, maxLength: 7 }).map((w) => w.join(' '))

// ---- display filters

const dfilterWord = fc.oneof(
  fc.constantFrom('ip.src', 'tcp.port', 'http.request.method', 'frame.len', 'eth.addr', 'udp', 'tcp.flags.syn', 'ip.ttl', 'dns.qry.name',
    '==', '!=', '>', '<=', 'eq', 'and', 'or', 'not', '&&', '||', '!', '(', ')', 'contains', 'matches', 'in', '{', '}', '..', '[', ']',
    ':', ',', '"GET"', '"a\\x41"', '10.0.0.1', '10.0.0.0/8', 'ff:ff:ff:ff:ff:ff', '1', '0x10', '-', '+', '*', 'len(', 'upper(', '$', '@',
    'tcp.len', 'frame.time_epoch', '1.5', '"'),
  fc.integer({ min: -5, max: 70000 }).map(String),
  fc.string({ maxLength: 6 }),
)
const dfilterExpr = fc.array(dfilterWord, { minLength: 1, maxLength: 8 }).map((w) => w.join(' '))

// ---- HTTP/1 responses, valid ones generated and framed several ways

interface Framed { bytes: Buffer; bodies: number[]; headFor: boolean[] }
interface GenResponse { status: number; head: boolean; mode: string; body: number; chunks: number[]; trailer: boolean; ext: boolean }

const response = fc.record({
  status: fc.constantFrom(200, 200, 204, 304, 100, 404, 500, 101),
  head: fc.boolean(),
  mode: fc.constantFrom('length', 'chunked', 'close'),
  body: fc.integer({ min: 0, max: 300 }),
  chunks: fc.array(fc.integer({ min: 1, max: 100 }), { maxLength: 4 }),
  trailer: fc.boolean(),
  ext: fc.boolean(),
})

/** A run of responses as a server would send them, with what each body holds. */
function responses(list: GenResponse[]): Framed {
  const parts: Buffer[] = []
  const bodies: number[] = []
  const headFor: boolean[] = []
  for (let i = 0; i < list.length; i++) {
    const r = list[i]
    if (r.status === 101) continue
    const last = i === list.length - 1
    const mode = r.mode === 'close' && !last ? 'length' : r.mode
    const noBody = r.head || (r.status >= 100 && r.status < 200) || r.status === 204 || r.status === 304
    if (r.status === 100) {
      parts.push(Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'))
      continue
    }
    let head = `HTTP/1.1 ${r.status} X\r\nServer: fuzz\r\n`
    let body = Buffer.alloc(0)
    if (mode === 'length') {
      head += `Content-Length: ${r.body}\r\n`
      body = Buffer.alloc(noBody ? 0 : r.body, 0x61)
    } else if (mode === 'chunked') {
      head += 'Transfer-Encoding: chunked\r\n'
      if (!noBody) {
        const c: Buffer[] = []
        for (const n of r.chunks) c.push(Buffer.from(`${n.toString(16)}${r.ext ? ';x=y' : ''}\r\n`), Buffer.alloc(n, 0x62), Buffer.from('\r\n'))
        c.push(Buffer.from(r.trailer ? '0\r\nX-T: 1\r\n\r\n' : '0\r\n\r\n'))
        body = Buffer.concat(c)
      }
    } else {
      head += 'Connection: close\r\n'
      body = Buffer.alloc(noBody ? 0 : r.body, 0x63)
    }
    parts.push(Buffer.from(`${head}\r\n`), body)
    bodies.push(noBody ? 0 : mode === 'chunked' ? r.chunks.reduce((a, b) => a + b, 0) : r.body)
    headFor.push(r.head)
    if (mode === 'close' && !noBody) break
  }
  return { bytes: Buffer.concat(parts), bodies, headFor }
}

/** Feeds `bytes` to a ResponseParser in pieces cut at `cuts`; returns the bodies of the complete responses, or an error. */
function transportParse(bytes: Buffer, cuts: number[], headFor: boolean[]): { bodies: number[]; error: string } {
  const bodies: number[] = []
  let body = 0
  let error = ''
  let n = 0
  const owner: ResponseParserOwner = {
    onMessageStart: () => true,
    expectsNoBody: () => headFor[n] === true,
    onInterim: () => {},
    onHead: () => { body = 0 },
    onBody: (_c, s, e) => { body += e - s },
    onTrailers: () => {},
    onComplete: () => { bodies.push(body); n++ },
    onParseError: (_k, m) => { error = m },
  }
  const p = new ResponseParser(owner)
  let at = 0
  for (const c of [...cuts.map((x) => Math.floor(x * bytes.length)).sort((a, b) => a - b), bytes.length]) {
    if (c > at) { p.feed(Buffer.from(bytes.subarray(at, c))); at = c }
  }
  if (p.end() === 'complete') { /* read until close */ }
  return { bodies, error }
}

/** The same bytes through the stream reader; returns the bodies of the messages (de-chunked sizes are not counted there, so the count and the ends are compared). */
function wireParse(bytes: Buffer, cuts: number[], headFor: boolean[]): WireMessage[] {
  const out: WireMessage[] = []
  let n = 0
  const w = new HttpWireParser((m) => { if (!(m.status >= 100 && m.status < 200)) n++; out.push({ ...m }) }, () => headFor[n] ? 'HEAD' : 'GET')
  let at = 0
  for (const c of [...cuts.map((x) => Math.floor(x * bytes.length)).sort((a, b) => a - b), bytes.length]) {
    if (c > at) { w.push(bytes, at, c, 1, 0); at = c }
  }
  w.close(2, 0)
  return out
}

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0
}

export const targets: FuzzTarget[] = [
  {
    name: 'pcap',
    what: 'mutated classic pcap corpus files through the file reader',
    property: () => {
      const files = corpusFiles('pcap')
      return fc.asyncProperty(mutated(files), async (b) => { await readAll(b) })
    },
  },
  {
    name: 'pcapng',
    what: 'mutated pcapng corpus files through the file reader',
    property: () => {
      const files = corpusFiles('pcapng')
      return fc.asyncProperty(mutated(files), async (b) => { await readAll(b) })
    },
  },
  {
    name: 'dissectors',
    what: 'mutated corpus captures read and dissected with every shipped dissector (all fields)',
    property: async () => {
      const registry = await shippedRegistry()
      const files = corpusFiles('pcap', 30)
      return fc.asyncProperty(mutated(files), async (b) => { await readAll(b, registry) })
    },
  },
  {
    name: 'pcap-filter',
    what: 'random pcap-filter(7) expressions: netkit accepts exactly what tcpdump -d accepts',
    skip: () => (have('tcpdump') ? false : 'needs tcpdump'),
    property: () => fc.property(filterExpr, (expr) => {
      let ours: string
      try {
        compileFilter(expr, { linkType: 1 })
        ours = 'accept'
      } catch (err) {
        if (!expected(err, FilterSyntaxError)) throw err
        ours = 'reject'
      }
      const r = spawnSync('tcpdump', ['-d', '-y', 'EN10MB', expr], { encoding: 'utf8', timeout: 10_000 })
      const theirs = r.status === 0 ? 'accept' : 'reject'
      if (ours !== theirs) throw new Error(`'${expr}': tcpdump ${theirs}s, netkit ${ours}s${r.status !== 0 ? ` (tcpdump: ${r.stderr.trim().split('\n').pop()})` : ''}`)
    }),
  },
  {
    name: 'dfilter',
    what: 'random display-filter text through the dfilter compiler (only DisplayFilterError may escape)',
    property: async () => {
      const registry = await shippedRegistry()
      return fc.property(dfilterExpr, (expr) => {
        try {
          compileDisplayFilter(expr, registry)
        } catch (err) {
          if (!expected(err, DisplayFilterError)) throw err
        }
      })
    },
  },
  {
    name: 'http-response',
    what: 'generated HTTP/1 responses cut anywhere: the transport parser and http-wire agree on the messages; mutated ones throw nothing',
    property: () => fc.property(fc.array(response, { minLength: 1, maxLength: 5 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
      fc.option(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })), { nil: null }), (list, cuts, flip: [number, number] | null) => {
        const framed = responses(list)
        const bytes = Buffer.from(framed.bytes)
        if (flip !== null && bytes.length > 0) bytes[Math.floor(flip[0] * bytes.length) % bytes.length] = flip[1]
        const t = transportParse(bytes, cuts, framed.headFor)
        const w = wireParse(bytes, cuts, framed.headFor).filter((m) => !(m.status >= 100 && m.status < 200) && !m.truncated)
        if (flip !== null) return // mutated: only that nothing threw
        if (t.error !== '') throw new Error(`transport refused a valid response: ${t.error}`)
        if (JSON.stringify(t.bodies) !== JSON.stringify(framed.bodies)) throw new Error(`transport bodies ${JSON.stringify(t.bodies)}, sent ${JSON.stringify(framed.bodies)}`)
        if (w.length !== t.bodies.length) throw new Error(`http-wire found ${w.length} responses, the transport ${t.bodies.length}`)
      }),
  },
  {
    name: 'http-wire',
    what: 'random bytes and mutated requests/responses through the stream reader (nothing may throw)',
    property: () => fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.constantFrom('GET / HTTP/1.1\r\n', 'HTTP/1.1 200 OK\r\n', 'Content-Length: 5\r\n', 'Transfer-Encoding: chunked\r\n', '\r\n', '5\r\nhello\r\n', '0\r\n\r\n', 'ffffffffffffffffff\r\n').map((s) => Buffer.from(s))), { maxLength: 12 }), (pieces) => {
      const w = new HttpWireParser(() => {}, () => 'GET')
      for (const p of pieces) w.push(Buffer.from(p), 0, p.length, 1, 0)
      w.gap()
      w.close(1, 0)
    }),
  },
  {
    name: 'config',
    what: 'random JSON values through config validation (only ConfigError may escape)',
    property: () => fc.property(fc.oneof(fc.jsonValue(), fc.record({ plugins: fc.jsonValue(), builtinPlugins: fc.jsonValue() }, { requiredKeys: [] })), (value) => {
      try {
        validateConfig(value, '/tmp/fuzz.json')
      } catch (err) {
        if (!expected(err, ConfigError)) throw err
      }
    }),
  },
]
