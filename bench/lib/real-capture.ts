/**
 * The real capture the benchmarks share: wrk loads an nginx of our own on loopback while tcpdump
 * records it, and the recording is grown to N packets by appending copies with other client
 * ports and later timestamps (see bench/read-real.ts). Kept in $TMPDIR/netkit-read-real/, keyed
 * by the recipe version and the packet count, so every bench measures the same bytes.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { freeLowPort, recordWithTcpdump, startNginx } from '../../test/helpers/servers.js'
import { FileSink } from '../../src/pcap/file-sink.js'
import { openCaptureFile } from '../../src/pcap/file-reader.js'
import { PcapWriter } from '../../src/pcap/pcap-writer.js'
import { have } from './measure.js'

/** What the recording is made of; a change here is a new cache key. */
const RECIPE = {
  version: 2,
  /**
   * wrk's connections (-c), run time (-d, whole seconds) and pause before each request (ms, its
   * delay() hook): unpaced, wrk and nginx outrun tcpdump on two cores and the kernel drops packets.
   */
  connections: 8,
  delayMs: 1,
  duration: '2s',
  /** Response bodies served, by path, and how often wrk asks for each (its request() rotation). */
  files: { 'small.txt': 120, 'page.html': 2_400, 'medium.json': 8_000, 'large.bin': 32_000 } as Record<string, number>,
  rotation: ['/small.txt', '/small.txt', '/page.html', '/small.txt', '/medium.json', '/small.txt', '/page.html', '/large.bin'],
}
const HTTP_PORT = 80

export const cache = join(tmpdir(), 'netkit-read-real')
const base = join(cache, `recording-v${RECIPE.version}.pcap`)
const grown = (n: number): string => join(cache, `real-v${RECIPE.version}-${n}.pcap`)

/** Records wrk against nginx on loopback into `out`; the server's port. */
async function record(out: string): Promise<number> {
  const dir = join(cache, `nginx-${process.pid}`)
  const site = join(dir, 'site')
  mkdirSync(site, { recursive: true })
  for (const [name, size] of Object.entries(RECIPE.files)) {
    // Incompressible bytes for the binary file; text for the others (nginx gzips none: wrk sends no Accept-Encoding).
    writeFileSync(join(site, name), name.endsWith('.bin') ? Buffer.from(Array.from({ length: size }, (_, i) => (i * 2654435761) >>> 24)) : 'x'.repeat(size - 1) + '\n')
  }
  const script = join(dir, 'rotate.lua')
  writeFileSync(script, `local paths = {${RECIPE.rotation.map((p) => `"${p}"`).join(', ')}}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\ndelay = function()\n  return ${RECIPE.delayMs}\nend\n`)
  const port = await freeLowPort()
  const nginx = await startNginx(dir, port, site)
  // nginx and wrk share CPU 1, tcpdump has CPU 0: on two cores a starved tcpdump drops packets.
  const pin = have('taskset') && cpus().length >= 2
  if (pin) spawnSync('taskset', ['-pc', '1', String(nginx.child.pid)])
  try {
    // wrk's failure is reported after tcpdump is stopped (the recorder stops it only when traffic() returns).
    let failed = ''
    const counts = await recordWithTcpdump(out, `tcp port ${port}`, async () => {
      const r = spawnSync(pin ? 'taskset' : 'wrk', [...(pin ? ['-c', '1', 'wrk'] : []), '-t1', `-c${RECIPE.connections}`, `-d${RECIPE.duration}`, '-s', script, `http://127.0.0.1:${port}/`], { encoding: 'utf8' })
      if (r.status !== 0) failed = `wrk failed (${r.status}): ${r.stderr}${r.stdout}`
      else console.log(`wrk: ${/Requests\/sec:\s+\S+/.exec(r.stdout)?.[0] ?? r.stdout.trim()}`)
    })
    if (failed !== '') throw new Error(failed)
    console.log(`recorded ${counts.captured} packets (nginx on 127.0.0.1:${port})`)
  } finally {
    await nginx.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return port
}

/** RFC 1624 incremental update of a 16-bit one's-complement checksum for one 16-bit word. */
function adjustChecksum(sum: number, from: number, to: number): number {
  let s = (~sum & 0xffff) + (~from & 0xffff) + to
  s = (s & 0xffff) + (s >>> 16)
  s = (s & 0xffff) + (s >>> 16)
  return ~s & 0xffff
}

/** Offset of the TCP header of an Ethernet/IPv4/TCP frame at data[off, off + len), or -1. */
function tcpHeader(data: Buffer, off: number, len: number, linkType: number): number {
  if (linkType !== 1 || len < 54 || data.readUInt16BE(off + 12) !== 0x0800 || data[off + 23] !== 6) return -1
  const tcp = 14 + (data[off + 14] & 0x0f) * 4
  return len >= tcp + 20 ? off + tcp : -1
}

/**
 * Writes `n` packets to `out`: the recording again and again, copy k with every client port
 * moved to a port of its own (so each copy's connections are new TCP streams), the server's
 * port as HTTP_PORT, and its times shifted past the copy before.
 */
async function grow(recording: string, serverPort: number, n: number, out: string): Promise<void> {
  // First pass: the time the recording spans, and its client ports (numbered in order seen).
  const clientPorts = new Map<number, number>()
  let first = NaN
  let last = 0
  let count = 0
  for await (const b of (await openCaptureFile(recording)).batches()) {
    count += b.count
    for (let i = 0; i < b.count; i++) {
      if (Number.isNaN(first)) first = b.tsSec[i]
      last = b.tsSec[i]
      const tcp = tcpHeader(b.data, b.offset[i], b.capLen[i], b.linkType[i])
      if (tcp < 0) continue
      for (const at of [tcp, tcp + 2]) {
        const port = b.data.readUInt16BE(at)
        if (port !== serverPort && !clientPorts.has(port)) clientPorts.set(port, clientPorts.size)
      }
    }
  }
  if (count === 0) throw new Error(`${recording} holds no packets`)
  if (1025 + Math.ceil(n / count) * clientPorts.size > 65535) throw new Error(`${recording}: too many client ports (${clientPorts.size}) to give each of ${Math.ceil(n / count)} copies its own`)
  const shift = last - first + 2
  const tmp = `${out}.tmp`
  const w = new PcapWriter(FileSink.create(tmp), { linkType: 1, snaplen: 262144 })
  const scratch = Buffer.allocUnsafe(262144 + 64)
  let written = 0
  for (let copy = 0; written < n; copy++) {
    const reader = await openCaptureFile(recording)
    for await (const b of reader.batches()) {
      for (let i = 0; i < b.count && written < n; i++) {
        const len = b.capLen[i]
        b.data.copy(scratch, 0, b.offset[i], b.offset[i] + len)
        const tcp = tcpHeader(scratch, 0, len, b.linkType[i])
        if (tcp >= 0) {
          let sum = scratch.readUInt16BE(tcp + 16)
          for (const at of [tcp, tcp + 2]) {
            const port = scratch.readUInt16BE(at)
            const to = port === serverPort ? HTTP_PORT : 1025 + copy * clientPorts.size + clientPorts.get(port)!
            sum = adjustChecksum(sum, port, to)
            scratch.writeUInt16BE(to, at)
          }
          scratch.writeUInt16BE(sum, tcp + 16)
        }
        w.writeRecord(scratch, 0, len, b.origLen[i], b.tsSec[i] + copy * shift, b.tsNsec[i])
        written++
      }
    }
  }
  w.close()
  renameSync(tmp, out)
}

let recorded = false
/** The grown file of `n` packets, made (and recorded: again once per process with `fresh`) when not cached. */
export async function realFile(n: number, fresh = false): Promise<string> {
  mkdirSync(cache, { recursive: true })
  const file = grown(n)
  if (existsSync(file) && (!fresh || recorded)) return file
  const portFile = `${base}.port`
  if ((fresh && !recorded) || !existsSync(base) || !existsSync(portFile)) {
    writeFileSync(portFile, String(await record(base)))
    recorded = true
  }
  const port = Number(readFileSync(portFile, 'utf8'))
  await grow(base, port, n, file)
  return file
}

