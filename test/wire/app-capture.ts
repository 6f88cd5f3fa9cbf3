/**
 * Helpers for the application-protocol tests (DNS, DHCP, TLS): real traffic captured by tcpdump
 * on a veth pair between two namespaces the test makes, field values compared with tshark's,
 * text lines with tcpdump's, and damaged copies of the captures run through every dissector.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { netkit, run, tsharkFields } from '../helpers/cli.js'
import { captureSkip, createVethPair, startTcpdumpIn, type VethPair } from '../capture/netns.js'
import { validateConfig } from '../../src/config.js'
import { loadDissectors } from '../../src/dissect/plugin-loader.js'
import { DissectionEngine } from '../../src/dissect/engine.js'
import { openCaptureFile } from '../../src/pcap/file-reader.js'
import { RecordKind } from '../../src/pcap/record-batch.js'

export { captureSkip }

/**
 * Makes a veth pair, captures on the first namespace's side into `file` while `traffic` runs,
 * and removes everything afterwards (also when `traffic` throws).
 */
export async function captureTraffic(file: string, traffic: (pair: VethPair) => Promise<void>): Promise<void> {
  const pair = createVethPair()
  try {
    const dump = await startTcpdumpIn(pair, pair.ns, pair.iface, file)
    try {
      await traffic(pair)
    } finally {
      await dump.stop()
    }
  } finally {
    pair.cleanup()
  }
}

/** The field names a plugin declares (its definition's, or each definition's of an array). */
export async function pluginFields(plugin: string): Promise<string[]> {
  const mod = await import(`../../plugins/${plugin}/index.js`) as { default: unknown }
  const defs = (Array.isArray(mod.default) ? mod.default : [mod.default]) as Array<{ fields: Record<string, { name: string }> }>
  return [...new Set(defs.flatMap((d) => Object.values(d.fields).map((f) => f.name)))]
}

/**
 * Asserts that `netkit read -T fields` equals `tshark -T fields` for `fields` on every frame of
 * `file` but the frames `skip` names (with the reason in the caller); returns how many non-empty
 * fields (a column of a frame) were compared.
 */
export async function assertFieldsEqual(file: string, fields: string[], skip: Set<number> = new Set()): Promise<number> {
  const ref = tsharkFields(file, fields).split('\n').slice(0, -1)
  const got = await netkit(['read', '-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])])
  assert.equal(got.code, 0, got.stderr)
  const lines = got.stdout.split('\n').slice(0, -1)
  assert.equal(lines.length, ref.length, 'frame count')
  let compared = 0
  for (let i = 0; i < ref.length; i++) {
    if (skip.has(i + 1)) continue
    const a = ref[i].split('\t')
    const b = lines[i].split('\t')
    const diffs = fields.map((f, k) => (norm(a[k]) === norm(b[k]) ? '' : `${f}: tshark=${a[k]} netkit=${b[k]}`)).filter(Boolean)
    assert.deepEqual(diffs, [], `frame ${i + 1}`)
    compared += fields.filter((_, k) => (a[k] ?? '') !== '').length
  }
  return compared
}

/** Hex and decimal numbers compare as numbers, as compare-fields.py compares them. */
function norm(v: string | undefined): string {
  return (v ?? '').split(',').map((p) => (/^0x[0-9a-f]+$/i.test(p) ? String(parseInt(p, 16)) : p.toLowerCase())).join(',')
}

/** Frames tshark marks as TCP retransmissions (their payload is not handed up by tshark). */
export function retransmissions(file: string): Set<number> {
  const out = tsharkFields(file, ['frame.number'], ['-Y', 'tcp.analysis.retransmission || tcp.analysis.fast_retransmission'])
  return new Set(out.split('\n').filter(Boolean).map(Number))
}

/** The lines of `tcpdump -n -r FILE` and `netkit read -r FILE` that `pick` selects, side by side. */
export async function textLines(file: string, pick: (line: string) => boolean): Promise<{ tcpdump: string[]; netkit: string[] }> {
  const ref = await run('tcpdump', ['-n', '-r', file])
  const got = await netkit(['read', '-r', file])
  assert.equal(got.code, 0, got.stderr)
  return { tcpdump: ref.stdout.split('\n').filter(pick), netkit: got.stdout.split('\n').filter(pick) }
}

/** Reasons a layer ends malformed because of a bug in its dissector, not in its input. */
const BUG = /is not a function|Cannot read|undefined|Maximum call stack|Invalid array length|out of memory/i

/**
 * Runs every dissector over damaged copies of `file` (each packet cut short at random points,
 * and with random bits flipped), in process, for the summary line and every field: no layer may
 * end on an exception that is a bug (TypeError and the like), and the run must end. Returns how
 * many layers named in `protocols` it dissected.
 */
export async function assertSurvivesDamage(file: string, protocols: string[], rounds = 20): Promise<number> {
  const { registry } = await loadDissectors(validateConfig({}))
  const original = readFileSync(file)
  let seen = 0
  let seed = 12345
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x80000000
  }
  for (let round = 0; round < rounds; round++) {
    const damaged = damage(original, random, round % 2 === 0)
    const path = `${file}.damaged`
    writeFileSync(path, damaged)
    const reader = await openCaptureFile(path)
    const engine = new DissectionEngine(registry, { allFields: true, info: true })
    try {
      for await (const batch of reader.batches()) {
        for (let i = 0; i < batch.count; i++) {
          if (batch.kind[i] !== RecordKind.packet) continue
          const packet = engine.dissect(batch, i)
          packet.infoText()
          for (const layer of packet.layers) {
            if (!protocols.includes(layer.name)) continue
            seen++
            assert.ok(layer.status !== 'malformed' || !BUG.test(layer.reason ?? ''), `${layer.name}: ${layer.reason}`)
          }
        }
      }
    } finally {
      await reader.close()
    }
  }
  return seen
}

/**
 * A copy of a classic pcap file (24-byte header, 16-byte record headers) with every packet
 * either cut at a random length (caplen lowered, the bytes dropped) or with bits flipped past
 * the Ethernet, IP and transport headers, where the application data is.
 */
function damage(file: Buffer, random: () => number, cut: boolean): Buffer {
  const le = file.readUInt32LE(0) === 0xa1b2c3d4 || file.readUInt32LE(0) === 0xa1b23c4d
  const u32 = (b: Buffer, o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o))
  const out: Buffer[] = [file.subarray(0, 24)]
  for (let p = 24; p + 16 <= file.length;) {
    const caplen = u32(file, p + 8)
    const head = Buffer.from(file.subarray(p, p + 16))
    const data = Buffer.from(file.subarray(p + 16, p + 16 + caplen))
    p += 16 + caplen
    if (cut) {
      const keep = Math.floor(random() * (data.length + 1))
      if (le) head.writeUInt32LE(keep, 8)
      else head.writeUInt32BE(keep, 8)
      out.push(head, data.subarray(0, keep))
    } else {
      for (let k = 0; k < 8 && data.length > 42; k++) {
        const at = 42 + Math.floor(random() * (data.length - 42))
        data[at] ^= 1 << Math.floor(random() * 8)
      }
      out.push(head, data)
    }
  }
  return Buffer.concat(out)
}
