// The file reader's two ways of getting a regular file's bytes agree (src/pcap/file-window.ts):
// mapped through the addon's FileWindow (here with windows of one page, so that records straddle
// windows and the larger ones make the window grow, and of four pages, so that the window mapped
// ahead on the addon's thread is taken, and with mapping ahead turned off) it delivers exactly
// what read(2) delivers, on every corpus file: the same records, fields and bytes, the same
// warnings, the same error at the same offset on damaged files. Windows mapped ahead hold the
// file's bytes, alternating with the current one. `read -w` through the addon's writev writes what tcpdump -w
// writes, on corpus files and on a file larger than the default window, and a failed write is
// the same one error line either way.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { closeSync, openSync, readFileSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { corpus, netkit, needs, tempDir } from '../helpers/cli.js'
import { corpusFiles } from '../helpers/corpus.js'
import { openCaptureFile } from '../../src/pcap/file-reader.js'
import { MappedReader, MapPolicy, rangeWriter } from '../../src/pcap/file-window.js'

const noAddon = rangeWriter() === undefined && 'the capture addon (with FileWindow) is not built: files are read with read(2) only'
const files = corpusFiles()
const noCorpus = files.length === 0 && 'the shared corpus is not there'

/** Everything a reader delivers for `file`, with NETKIT_MAP_* set to `env` while it is open. */
async function delivered(file: string, env: Record<string, string>, cutToSnaplen: boolean): Promise<string> {
  const saved = { NETKIT_MAP_FILES: process.env.NETKIT_MAP_FILES, NETKIT_MAP_WINDOW: process.env.NETKIT_MAP_WINDOW, NETKIT_MAP_PREFETCH: process.env.NETKIT_MAP_PREFETCH }
  Object.assign(process.env, env)
  const out: string[] = []
  try {
    // A first read of one page, so that the rest of the file comes through the mapped windows.
    const reader = await openCaptureFile(file, { cutToSnaplen, batchSize: 7, bufferSize: 4096, onWarning: (w) => out.push(`warning ${w}`) })
    for await (const b of reader.batches()) {
      for (let i = 0; i < b.count; i++) {
        out.push([b.firstNumber + i, b.capLen[i], b.origLen[i], b.tsSec[i], b.tsNsec[i], b.iface[i], b.linkType[i], b.kind[i],
          b.data.toString('hex', b.offset[i], b.offset[i] + b.capLen[i])].join(' '))
      }
      for (const s of b.secrets) out.push(`secrets ${s.type} ${s.data.toString('hex')}`)
    }
  } catch (err) {
    out.push(`error ${(err as Error).message}`)
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v
  }
  return out.join('\n')
}

test('a mapped file delivers what read(2) delivers, on every corpus file', { skip: noAddon || noCorpus }, async () => {
  let records = 0
  for (const file of files) {
    for (const cut of [false, true]) {
      const read = await delivered(file, { NETKIT_MAP_FILES: '0' }, cut)
      for (const [window, prefetch] of [['1', '1'], ['16384', '1'], ['16384', '0']]) {
        const mapped = await delivered(file, { NETKIT_MAP_FILES: '1', NETKIT_MAP_WINDOW: window, NETKIT_MAP_PREFETCH: prefetch }, cut)
        assert.equal(mapped, read, `${basename(file)} (cut to snaplen: ${cut}, window ${window}, mapped ahead: ${prefetch})`)
      }
      records += read.split('\n').length
    }
  }
  assert.ok(records > 1000, `only ${records} records compared`)
})

test('windows mapped ahead on the addon\'s thread hold the file\'s bytes', { skip: noAddon || noCorpus }, () => {
  const file = join(corpus, 'tcpdump', 'bigtcp-ipv4.pcap')
  const bytes = readFileSync(file)
  const fd = openSync(file, 'r')
  const saved = { NETKIT_MAP_FILES: process.env.NETKIT_MAP_FILES, NETKIT_MAP_WINDOW: process.env.NETKIT_MAP_WINDOW, NETKIT_MAP_PREFETCH: process.env.NETKIT_MAP_PREFETCH }
  Object.assign(process.env, { NETKIT_MAP_FILES: '1', NETKIT_MAP_WINDOW: String(4 * 4096) })
  delete process.env.NETKIT_MAP_PREFETCH
  try {
    const reader = MappedReader.open(fd, bytes.length)
    assert.ok(reader, 'the file is mapped')
    // Walk the file as the record reader does: each view starts shortly before the last one's end.
    let offset = 0
    let taken = 0
    let last: Buffer | undefined
    for (;;) {
      const view = reader.view(offset, 300)
      const n = view.end - view.pos
      assert.ok(view.buf.subarray(view.pos, view.end).equals(bytes.subarray(offset, offset + n)), `bytes at ${offset}`)
      if (last !== undefined && view.buf !== last) taken++
      last = view.buf
      if (view.atEnd) break
      offset += n - 200
    }
    reader.close()
    // Every view after the first could come from the window mapped ahead (the other buffer).
    assert.ok(taken >= Math.floor(bytes.length / (4 * 4096)) - 1, `the window mapped ahead was taken ${taken} times`)
  } finally {
    closeSync(fd)
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v
  }
})

/** Runs tcpdump -r IN -w OUT ARGS; returns the file it wrote. */
function tcpdump(file: string, out: string, args: string[]): Buffer {
  const r = spawnSync('tcpdump', ['-r', file, '-w', out, ...args], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  return readFileSync(out)
}

/** The records of a pcap file written by netkit equal tcpdump's (after the 24-byte header). */
async function sameAsTcpdump(file: string, args: string[], dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const td = tcpdump(file, join(dir, 'td.pcap'), args)
  const nkOut = join(dir, 'nk.pcap')
  const r = await netkit(['read', '-r', file, '-w', nkOut, ...args], { env })
  assert.equal(r.code, 0, r.stderr)
  const nk = readFileSync(nkOut)
  assert.ok(nk.subarray(24).equals(td.subarray(24)), `${basename(file)} ${args.join(' ')}: ${nk.length} bytes written, tcpdump ${td.length}`)
}

test('read -w through the addon\'s writev writes what tcpdump writes', { skip: noAddon || noCorpus || needs('tcpdump') }, async () => {
  const { dir, cleanup } = tempDir('netkit-mapped-')
  try {
    const env = { ...process.env, NETKIT_MAP_FILES: '1' }
    for (const pick of ['tcpdump/ipv4_tcp_http_xml.pcap', 'tcpdump/bigtcp-ipv4.pcap', 'tcpdump/tcp-handshake-nano.pcap', 'pcapng/output_le/basic/test018.pcapng']) {
      for (const args of [[], ['tcp', 'or', 'udp'], ['greater', '100']]) await sameAsTcpdump(join(corpus, pick), args, dir, env)
    }
  } finally {
    cleanup()
  }
})

test('a file larger than the default window: mapped by default, the same as tcpdump and as read(2)', { skip: noAddon || noCorpus || needs('tcpdump', 'mergecap') }, async () => {
  const { dir, cleanup } = tempDir('netkit-mapped-')
  try {
    // Real captures of Ethernet TCP traffic, appended to one another until the file spans a few windows.
    const parts = ['bigtcp-ipv4.pcap', 'ipv4_tcp_http_xml.pcap', 'mptcp-v0.pcap', 'ssh.pcap'].map((f) => join(corpus, 'tcpdump', f))
    const each = parts.reduce((n, f) => n + statSync(f).size, 0)
    const copies = Math.ceil((2.5 * MapPolicy.windowBytes) / each)
    const big = join(dir, 'big.pcap')
    const m = spawnSync('mergecap', ['-F', 'pcap', '-a', '-w', big, ...Array.from({ length: copies }, () => parts).flat()], { encoding: 'utf8' })
    assert.equal(m.status, 0, m.stderr)
    assert.ok(statSync(big).size > 2 * MapPolicy.windowBytes)
    const env = { ...process.env }
    delete env.NETKIT_MAP_FILES
    delete env.NETKIT_MAP_WINDOW
    for (const args of [['tcp', 'port', '80'], ['greater', '1000']]) await sameAsTcpdump(big, args, dir, env)
    // The printing path reads through the same reader.
    const fields = ['read', '-r', big, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.len', '-e', 'tcp.seq_raw']
    const mapped = await netkit(fields, { env })
    const read = await netkit(fields, { env: { ...env, NETKIT_MAP_FILES: '0' } })
    assert.equal(mapped.code, 0, mapped.stderr)
    assert.equal(mapped.stdout, read.stdout)
    assert.ok(mapped.stdout.split('\n').length > copies * 4)
    // A failed write (ENOSPC from the addon's writev) is one line and exit status as with read(2).
    const full = await netkit(['read', '-r', big, '-w', '/dev/full'], { env })
    const fullRead = await netkit(['read', '-r', big, '-w', '/dev/full'], { env: { ...env, NETKIT_MAP_FILES: '0' } })
    assert.match(full.stderr, /^netkit read: \/dev\/full: cannot write it: no space left on device\n$/)
    assert.equal(full.stderr, fullRead.stderr)
    assert.equal(full.code, fullRead.code)
    assert.notEqual(full.code, 0)
  } finally {
    cleanup()
  }
})
