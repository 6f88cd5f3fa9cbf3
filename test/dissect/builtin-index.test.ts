// The build's index of the shipped dissectors (src/dissect/builtin-index.ts) stands in for their
// modules: a CLI run registers from it and loads a plugin's code when a packet first reaches it.
// What it registers, and what dissection then gives, must be what importing the plugins gives.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { validateConfig } from '../../src/config.js'
import { BUILTIN, readIndex, standIns } from '../../src/dissect/builtin-index.js'
import type { DissectedPacket } from '../../src/dissect/dissected-packet.js'
import { loadDissectors } from '../../src/dissect/plugin-loader.js'
import { DissectionEngine } from '../../src/dissect/engine.js'
import { openCaptureFile } from '../../src/pcap/file-reader.js'
import { RecordKind } from '../../src/pcap/record-batch.js'
import { DissectorRegistry } from '../../src/dissect/registry.js'
import { ByteView } from '../../src/dissect/byte-view.js'
import { corpus, root, tempDir } from '../helpers/cli.js'

const index = readIndex(root)
const noIndex = index === undefined ? 'no dist/builtin-dissectors.json (npm run build writes it) or no require(esm) in this Node' : false

async function registries(): Promise<{ eager: DissectorRegistry; lazy: DissectorRegistry }> {
  const config = validateConfig({ plugins: [] })
  return { eager: (await loadDissectors(config)).registry, lazy: (await loadDissectors(config, { lazy: true })).registry }
}

/** What a registry declares, as plain data. */
function declared(r: DissectorRegistry): unknown {
  return {
    dissectors: r.dissectors.map((d) => ({ name: d.name, source: d.source, protoId: d.protoId, index: d.index, ids: d.ids, prefs: d.prefs, entries: d.entries, title: d.def.title, handsOn: d.def.handsOn, heuristic: d.def.heuristic, preferences: d.def.preferences, summary: typeof d.def.summary, recognize: typeof d.def.recognize })),
    fields: r.fields,
    fieldByName: [...r.fieldByName],
    tables: r.tableEntries(),
    known: r.knownTables(),
  }
}

/** A packet as plain data: layers, frame.protocols, the summary line and every field occurrence. */
function snapshot(p: DissectedPacket): unknown {
  const o = p.occurrences as unknown as { count: number; field: ArrayLike<number> }
  const fields: unknown[] = []
  for (let k = 0; k < o.count; k++) fields.push([p.registry.fields[o.field[k]].name, p.valueAt(k)])
  return { layers: p.layers.map((l) => [l.name, l.status, l.start, l.length, l.reason]), protocols: p.protocolsText(), info: p.infoText(), fields }
}

/** Every packet of `file`, with every field, layer and the summary line (or the error reading ends with). */
async function dissectAll(file: string, registry: DissectorRegistry): Promise<unknown[]> {
  const out: unknown[] = []
  const engine = new DissectionEngine(registry, { allFields: true, info: true, allLayers: true })
  try {
    const reader = await openCaptureFile(file)
    try {
      for await (const batch of reader.batches()) {
        for (let i = 0; i < batch.count; i++) if (batch.kind[i] === RecordKind.packet) out.push(snapshot(engine.dissect(batch, i)))
      }
    } finally {
      await reader.close()
    }
  } catch (err) {
    out.push(String(err))
  }
  return out
}

test('the index registers every shipped dissector as importing it does', { skip: noIndex }, async () => {
  assert.deepEqual(Object.keys(index!.plugins).sort(), [...BUILTIN].sort(), 'every shipped plugin is indexed')
  const { eager, lazy } = await registries()
  assert.ok(eager.dissectors.length >= 30)
  assert.deepEqual(declared(lazy), declared(eager))
})

test('a plugin\'s code is loaded when a packet first reaches it, and dissects as before', { skip: noIndex }, async () => {
  const { eager, lazy } = await registries()
  const reg = (name: string) => lazy.dissectors.find((d) => d.name === name)!
  // The index's stand-in loads the plugin in its dissect(); the plugin's own decodes.
  const isStandIn = (name: string): boolean => /\bload\(\)/.test(String(reg(name).def.dissect))
  const standIn = reg('dns').def
  assert.ok(isStandIn('dns') && isStandIn('eth'), 'before any packet: the index\'s stand-ins')
  // Every corpus file, every field and the summary line, through both registries.
  const files = ['tcpdump', 'pcapng'].flatMap((dir) => readdirSync(join(corpus, dir)).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => join(corpus, dir, f)))
  assert.ok(files.length >= 20)
  let packets = 0
  for (const file of files) {
    const a = await dissectAll(file, eager)
    const b = await dissectAll(file, lazy)
    assert.deepEqual(b, a, file)
    packets += a.length
  }
  assert.ok(packets > 500, `${packets} packets compared`)
  assert.notEqual(reg('dns').def, standIn, 'after a DNS packet: the plugin\'s own definition')
  assert.ok(!isStandIn('dns') && !isStandIn('eth'))
  assert.equal(reg('dns').dissect, reg('dns').def.dissect)
})

test('a plugin folder changed since the build is imported, not taken from the index', { skip: noIndex }, async (t) => {
  const { dir, cleanup } = tempDir('netkit-index-')
  t.after(cleanup)
  // A copy has other modification times: its bytes are compared, and match.
  cpSync(join(root, 'plugins', 'udp'), join(dir, 'plugins', 'udp'), { recursive: true })
  const file = join(dir, 'plugins', 'udp', 'index.js')
  assert.ok(standIns(dir, 'udp', file, index), 'the same bytes elsewhere: the index stands in')
  appendFileSync(file, '\n// edited\n')
  assert.equal(standIns(dir, 'udp', file, index), undefined, 'an edited file')
  cpSync(join(root, 'plugins', 'udp'), join(dir, 'plugins', 'udp'), { recursive: true })
  writeFileSync(join(dir, 'plugins', 'udp', 'extra.js'), 'export {}\n')
  assert.equal(standIns(dir, 'udp', file, index), undefined, 'a file added')
})

test('a preference set for a shipped dissector is checked as when it is imported', { skip: noIndex }, async () => {
  const config = validateConfig({ plugins: [], preferences: { tcp: { no_such: 1 } } })
  const failure = async (lazy: boolean): Promise<string> => loadDissectors(config, { lazy }).then(() => 'loaded', (err: Error) => `${err.name}: ${err.message}`)
  const eager = await failure(false)
  assert.match(eager, /preference tcp\.no_such/)
  assert.equal(await failure(true), eager)
})

test('a plugin that fails to load when first reached fails each of its layers with one clear error', { skip: noIndex }, async (t) => {
  const { dir, cleanup } = tempDir('netkit-index-')
  t.after(cleanup)
  // A copy outside netkit's package: its `import ... from 'netkit/plugin'` cannot be resolved.
  cpSync(join(root, 'plugins', 'udp'), join(dir, 'plugins', 'udp'), { recursive: true })
  const file = join(dir, 'plugins', 'udp', 'index.js')
  const stand = standIns(dir, 'udp', file, index)!
  const registry = new DissectorRegistry()
  for (const def of stand.defs) stand.bind(registry.register(def, file))
  const reg = registry.dissectors.find((d) => d.name === 'udp')!
  const call = (): unknown => {
    try {
      reg.dissect.call(reg.def, new ByteView().set(Buffer.alloc(8), 0, 8, 8), {} as never, reg.ids, reg.prefs)
    } catch (err) {
      return err
    }
    return undefined
  }
  const first = call() as Error
  assert.ok(first instanceof Error)
  assert.equal(first.name, 'PluginError')
  assert.match(first.message, new RegExp(`plugin ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.* failed to load: .*netkit`))
  assert.equal(call(), first, 'the same error again, not a retry')
})
