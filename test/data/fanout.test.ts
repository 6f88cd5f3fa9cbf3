/**
 * Fan-out capture (PACKET_FANOUT) in network namespaces: while the peer opens 40 TCP
 * connections to a server behind a veth, two `netkit capture --fanout ID:hash` processes on the
 * server's end together hold every packet tcpdump saw on the peer's end, no packet is in both
 * files, and each connection lies whole in one file; `--workers 2` gives the same. A capture
 * that joins the group with another mode or interface exits 1 and names the difference.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { root, tempDir } from '../helpers/cli.js'
import { quiet } from '../helpers/servers.js'
import { captureSkip, createVethPair, startCapture, startTcpdumpIn, type RunningCapture, type VethPair } from '../capture/netns.js'
import { openCaptureFile } from '../../src/pcap/file-reader.js'

const skip = captureSkip()
const PORT = 8080
const FLOWS = 40

/** The frames of a capture file as hex strings. */
async function frames(file: string): Promise<string[]> {
  const reader = await openCaptureFile(file)
  const out: string[] = []
  try {
    for await (const b of reader.batches()) for (let i = 0; i < b.count; i++) out.push(b.bytes(i).toString('hex'))
  } finally {
    await reader.close()
  }
  return out
}

/** The connection of an Ethernet/IPv4/TCP frame: its endpoints, in a fixed order. */
function flowOf(hex: string): string {
  const f = Buffer.from(hex, 'hex')
  const ip = 14
  const t = ip + (f[ip] & 0x0f) * 4
  const a = `${f.subarray(ip + 12, ip + 16).join('.')}:${f.readUInt16BE(t)}`
  const b = `${f.subarray(ip + 16, ip + 20).join('.')}:${f.readUInt16BE(t + 2)}`
  return a < b ? `${a} ${b}` : `${b} ${a}`
}

/**
 * While `captures` run, the peer connects FLOWS times (each connection sends some bytes and
 * closes) and tcpdump records the peer's end; stops the captures once their files are quiet and
 * returns the reference frames.
 */
async function traffic(pair: VethPair, dir: string, captures: RunningCapture[], files: string[]): Promise<string[]> {
  const ref = join(dir, `ref-${Math.random().toString(36).slice(2)}.pcap`)
  const dump = await startTcpdumpIn(pair, pair.peerNs, pair.peerIface, ref, ['tcp'])
  const client = `const net=require('net');(async()=>{for(let i=0;i<${FLOWS};i++){await new Promise((ok,no)=>{const s=net.connect(${PORT},'${pair.addr}',()=>s.end('x'.repeat(100+i)));s.on('error',no);s.on('close',ok);s.resume()})}})().catch(e=>{console.error(e);process.exit(1)})`
  pair.exec(pair.peerNs, process.execPath, ['-e', client])
  await dump.stop()
  for (const f of files) await quiet(f, 500, 15_000)
  for (const c of captures) c.child.kill('SIGINT')
  for (const c of captures) assert.equal((await c.exited).code, 0, c.stderr())
  return frames(ref)
}

async function checkSplit(reference: string[], files: string[]): Promise<void> {
  const parts = await Promise.all(files.map(frames))
  assert.ok(reference.length >= FLOWS * 5, `${reference.length} reference frames`)
  const all = parts.flat()
  assert.deepEqual([...all].sort(), [...reference].sort(), 'the union of the files is every packet, each once')
  const seen = new Set(parts[0])
  assert.equal(parts[1].filter((f) => seen.has(f)).length, 0, 'no packet is in both files')
  const where = new Map<string, Set<number>>()
  parts.forEach((p, k) => { for (const f of p) { const key = flowOf(f); if (!where.has(key)) where.set(key, new Set()); where.get(key)!.add(k) } })
  assert.equal(where.size, FLOWS)
  for (const [flow, ks] of where) assert.equal(ks.size, 1, `${flow} is split across files`)
  assert.ok(parts.every((p) => p.length > 0), `both files have packets (${parts.map((p) => p.length)})`)
}

function startServer(pair: VethPair) {
  const server = `require('net').createServer(s=>{s.resume();s.on('end',()=>s.end())}).listen(${PORT},'${pair.addr}',()=>console.log('up'))`
  return pair.spawn(pair.ns, process.execPath, ['-e', server])
}

test('two --fanout hash captures split the traffic: union is every packet, none in both, each flow whole', { skip }, async () => {
  const { dir, cleanup } = tempDir()
  const pair = createVethPair()
  const server = startServer(pair)
  try {
    const files = [join(dir, 'a.pcap'), join(dir, 'b.pcap')]
    const id = String(1000 + (process.pid % 60000))
    const caps = [await startCapture(pair, ['-i', pair.iface, '-w', files[0], '--fanout', `${id}:hash`, 'tcp']),
      await startCapture(pair, ['-i', pair.iface, '-w', files[1], '--fanout', `${id}:hash`, 'tcp'])]
    await checkSplit(await traffic(pair, dir, caps, files), files)
  } finally {
    server.kill()
    pair.cleanup()
    cleanup()
  }
})

test('--workers 2 splits the same way into FILE-0 and FILE-1', { skip }, async () => {
  const { dir, cleanup } = tempDir()
  const pair = createVethPair()
  const server = startServer(pair)
  try {
    const cap = await startCapture(pair, ['-i', pair.iface, '-w', join(dir, 'w.pcap'), '--workers', '2', 'tcp'])
    assert.match(cap.stderr(), /listening on nkc0 with 2 workers \(fan-out group \d+:hash\)/)
    const files = [join(dir, 'w-0.pcap'), join(dir, 'w-1.pcap')]
    await checkSplit(await traffic(pair, dir, [cap], files), files)
  } finally {
    server.kill()
    pair.cleanup()
    cleanup()
  }
})

test('joining a group with another mode or interface exits 1 and names the conflict', { skip }, async () => {
  const { dir, cleanup } = tempDir()
  const pair = createVethPair()
  try {
    const id = String(2000 + (process.pid % 60000))
    const first = await startCapture(pair, ['-i', pair.iface, '-w', join(dir, 'a.pcap'), '--fanout', `${id}:hash`])
    const run = (args: string[]) => {
      return new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const c = pair.spawn(pair.ns, process.execPath, [join(root, 'bin', 'run.js'), 'capture', ...args])
        let err = ''
        c.stderr!.on('data', (d) => { err += d })
        c.on('close', (code) => resolve({ code, stderr: err }))
      })
    }
    const mode = await run(['-i', pair.iface, '-w', join(dir, 'b.pcap'), '--fanout', `${id}:lb`])
    assert.equal(mode.code, 1, mode.stderr)
    assert.match(mode.stderr, new RegExp(`fan-out group ${id} exists with mode ${id}:hash, not ${id}:lb`))
    assert.equal(mode.stderr.trim().split('\n').length, 1)
    const iface = await run(['-i', 'lo', '-w', join(dir, 'c.pcap'), '--fanout', `${id}:hash`])
    assert.equal(iface.code, 1, iface.stderr)
    assert.match(iface.stderr, new RegExp(`fan-out group ${id} exists with interface ${pair.iface}, not lo`))
    const bad = await run(['-i', pair.iface, '--fanout', `${id}:fast`])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /unknown fan-out mode 'fast'/)
    first.child.kill('SIGINT')
    await first.exited
  } finally {
    pair.cleanup()
    cleanup()
  }
})
