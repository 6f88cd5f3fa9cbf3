/**
 * tshark's decode of a corpus file, once per file for every test that compares with it: one
 * `tshark -T fields` run with the union of the fields those tests need, kept on disk (keyed by
 * tshark's version, the file's size and time, and the field list) so the test files that share
 * it, and later runs, spawn tshark once per file instead of once per test.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run, sh } from './cli.js'

/** Every field a corpus comparison asks tshark for. */
export const CORPUS_FIELDS = [
  'frame.number', 'frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.interface_id', 'frame.protocols',
  'eth.src', 'eth.dst', 'eth.type',
  'ip.version', 'ip.hdr_len', 'ip.len', 'ip.id', 'ip.flags.df', 'ip.flags.mf', 'ip.frag_offset', 'ip.ttl', 'ip.proto', 'ip.src', 'ip.dst', 'ip.checksum', 'ip.dsfield',
  'ipv6.src', 'ipv6.dst', 'ipv6.nxt', 'ipv6.plen', 'ipv6.hlim',
  'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.hdr_len', 'tcp.flags', 'tcp.window_size_value', 'tcp.len', 'tcp.stream', 'tcp.seq', 'tcp.ack', 'tcp.checksum',
  'udp.srcport', 'udp.dstport', 'udp.length', 'udp.checksum', 'vlan.id', 'arp.opcode', 'icmp.type', 'icmpv6.type', 'sll.pkttype',
]

/** tshark's answer for a file: exit status, and its lines split into columns of CORPUS_FIELDS. */
export interface TsharkDecode { code: number; stderr: string; rows: string[][] }

let version: string | undefined

/** Decodes `file` with tshark (or returns the kept decode). */
export async function tsharkCorpus(file: string): Promise<TsharkDecode> {
  version ??= sh('tshark', ['--version']).split('\n')[0]
  const st = statSync(file)
  const key = createHash('sha256').update(JSON.stringify([version, file, st.size, st.mtimeMs, CORPUS_FIELDS])).digest('hex').slice(0, 24)
  const dir = join(tmpdir(), `netkit-tshark-cache-${process.getuid?.() ?? 0}`)
  const path = join(dir, `${key}.json`)
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as TsharkDecode
  } catch { /* not kept yet */ }
  const r = await run('tshark', ['-n', '-r', file, '-T', 'fields', ...CORPUS_FIELDS.flatMap((f) => ['-e', f])])
  const rows = r.stdout.split('\n').slice(0, -1).map((l) => l.split('\t'))
  const decode: TsharkDecode = { code: r.code ?? -1, stderr: r.stderr, rows }
  mkdirSync(dir, { recursive: true })
  const tmp = `${path}.${process.pid}`
  writeFileSync(tmp, JSON.stringify(decode))
  renameSync(tmp, path)
  return decode
}

/** The decode's lines for `fields` (a subset of CORPUS_FIELDS), tab-separated as tshark prints them. */
export function tsharkLines(decode: TsharkDecode, fields: readonly string[]): string[] {
  const idx = fields.map((f) => {
    const i = CORPUS_FIELDS.indexOf(f)
    if (i < 0) throw new Error(`${f} is not in CORPUS_FIELDS`)
    return i
  })
  return decode.rows.map((cols) => idx.map((i) => cols[i] ?? '').join('\t'))
}
