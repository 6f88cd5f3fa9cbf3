// `netkit read -r IN -w OUT [-c N] [EXPR]` writes what `tcpdump -r IN -w OUT [-c N] [EXPR]` writes:
// the same bytes after the 24-byte file header, and the same snaplen and link type in it, on
// every file of the shared corpus (pcap and pcapng, odd link types, damaged files). Where
// tcpdump gives up on a file (libpcap cannot put a pcapng's interfaces of different snaplens
// or link types in one pcap), what it wrote before stopping is a prefix of netkit's file.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { corpus, netkit, needs, tempDir } from '../helpers/cli.js'
import { corpusFiles } from '../helpers/corpus.js'

interface Written { status: number | null; bytes: Buffer; stderr: string }

function tcpdump(file: string, out: string, args: string[]): Written {
  const r = spawnSync('tcpdump', ['-r', file, '-w', out, ...args], { encoding: 'utf8' })
  let bytes = Buffer.alloc(0)
  try { bytes = readFileSync(out) } catch { /* tcpdump wrote nothing */ }
  return { status: r.status, bytes, stderr: r.stderr }
}

/** The header's snaplen and link-type word, read in the header's own byte order. */
function header(b: Buffer): { snaplen: number; linkType: number } {
  const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d
  return le ? { snaplen: b.readUInt32LE(16), linkType: b.readUInt32LE(20) } : { snaplen: b.readUInt32BE(16), linkType: b.readUInt32BE(20) }
}

/** Runs both tools on `file` with `args` and compares what they wrote. */
async function compare(file: string, args: string[], dir: string): Promise<'same' | 'prefix' | 'both refused'> {
  const name = `${basename(file)}-${args.join('_').replace(/[^\w-]/g, '')}`
  const td = tcpdump(file, join(dir, `${name}.td`), args)
  const nkOut = join(dir, `${name}.nk`)
  const nk = await netkit(['read', '-r', file, '-w', nkOut, ...args])
  const what = `${basename(file)} ${args.join(' ')}`
  if (td.bytes.length < 24) {
    // tcpdump refused the file outright (no interface, damaged header): so must netkit, or it
    // writes a file tcpdump has no counterpart for; only its exit status is compared then.
    if (nk.code !== 0) return 'both refused'
    assert.notEqual(td.status, 0, `${what}: tcpdump wrote no header yet exited 0`)
    return 'prefix'
  }
  const mine = readFileSync(nkOut)
  assert.deepEqual(header(mine), header(td.bytes), `${what}: snaplen and link type in the header`)
  if (td.status === 0 && nk.code === 0) {
    assert.ok(mine.subarray(24).equals(td.bytes.subarray(24)), `${what}: records differ from tcpdump's (${mine.length} vs ${td.bytes.length} bytes)`)
    return 'same'
  }
  assert.ok(td.status !== 0, `${what}: netkit failed (${nk.code}: ${nk.stderr.trim()}) where tcpdump did not`)
  // tcpdump stopped part way (libpcap: "an interface has a ... different from the first");
  // it keeps what it wrote before.
  assert.ok(mine.subarray(24, td.bytes.length).equals(td.bytes.subarray(24)), `${what}: tcpdump's records before it stopped are not netkit's first ones`)
  return 'prefix'
}

/** Runs `jobs` two at a time (each is mostly waiting for a child process). */
async function inPairs<T>(jobs: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < jobs.length; i += 2) out.push(...await Promise.all(jobs.slice(i, i + 2).map((j) => j())))
  return out
}

const skip = needs('tcpdump')
const files = corpusFiles()

test('every corpus file, filtered and converted, is written as tcpdump writes it', { skip: skip || (files.length === 0 && 'the shared corpus is not there') }, async () => {
  const { dir, cleanup } = tempDir('netkit-subset-')
  try {
    const seen = { same: 0, prefix: 0, 'both refused': 0 }
    for (const r of await inPairs(files.map((file) => () => compare(file, ['tcp', 'or', 'udp'], dir)))) seen[r]++
    // Most of the corpus must be compared byte for byte, not waved through as refused.
    assert.ok(seen.same >= files.length * 0.7, `only ${seen.same} of ${files.length} files compared whole: ${JSON.stringify(seen)}`)
  } finally {
    cleanup()
  }
})

test('no filter, -c N, a tcpflags test, a length test and a payload test on files of several kinds', { skip: skip || (files.length === 0 && 'the shared corpus is not there') }, async () => {
  const { dir, cleanup } = tempDir('netkit-subset-')
  try {
    const picks = ['tcpdump/ipv4_tcp_http_xml.pcap', 'tcpdump/tcp-handshake-nano.pcap', 'tcpdump/heapoverflow-tcp_print.pcap',
      'tcpdump/timestamp_invalid_micro.pcap', 'pcapng/output_le/basic/test018.pcapng']
    const cases = [[], ['-c', '3'], ['tcp[tcpflags]', '&', 'tcp-push', '!=', '0'], ['greater', '100'], ['tcp[((tcp[12]&0xf0)>>2):4]', '=', '0x47455420']]
    const jobs = picks.flatMap((pick) => cases.map((args) => async () => assert.equal(await compare(join(corpus, pick), args, dir), 'same', `${pick} ${args.join(' ')}`)))
    await inPairs(jobs)
  } finally {
    cleanup()
  }
})

test('records longer than the file\'s snaplen are cut to it, as libpcap cuts them', { skip }, async () => {
  const { dir, cleanup } = tempDir('netkit-subset-')
  try {
    // A real capture whose header claims a smaller snaplen than its records have.
    const file = join(dir, 'snap40.pcap')
    const bytes = readFileSync(join(corpus, 'tcpdump', 'dns_udp.pcap'))
    bytes.writeUInt32LE(40, 16)
    writeFileSync(file, bytes)
    assert.equal(await compare(file, [], dir), 'same')
    assert.equal(await compare(file, ['udp', 'port', '53'], dir), 'same')
  } finally {
    cleanup()
  }
})

test('pcap -> pcapng -> pcap keeps every record tcpdump keeps', { skip }, async () => {
  const { dir, cleanup } = tempDir('netkit-subset-')
  try {
    for (const pick of ['tcpdump/ipv4_tcp_http_xml.pcap', 'tcpdump/tcp-handshake-nano.pcap', 'tcpdump/dns_udp.pcap']) {
      const src = join(corpus, pick)
      const ng = join(dir, 'mid.pcapng')
      const back = join(dir, 'back.pcap')
      const r1 = await netkit(['read', '-r', src, '-w', ng, '-F', 'pcapng', 'tcp', 'or', 'udp'])
      assert.equal(r1.code, 0, r1.stderr)
      const r2 = await netkit(['read', '-r', ng, '-w', back])
      assert.equal(r2.code, 0, r2.stderr)
      const td = tcpdump(src, join(dir, 'td.pcap'), ['tcp', 'or', 'udp'])
      assert.equal(td.status, 0, td.stderr)
      assert.ok(readFileSync(back).subarray(24).equals(td.bytes.subarray(24)), `${pick}: records changed on the way through pcapng`)
    }
  } finally {
    cleanup()
  }
})
