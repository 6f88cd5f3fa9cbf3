// HTTP read back from a real link: nginx in one network namespace, real clients (curl, ab, wrk,
// netkit http) in another, a veth pair with MTU 1500 and offloads off between them, so bodies
// cross as many segments as on Ethernet. tcpdump records the server's side; http-log must find
// every request and response tshark finds, with the same fields.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { have, root, tempDir } from '../helpers/cli.js'
import { assertHttpLogMatchesTshark, netkitLog } from '../helpers/http-compare.js'
import { createVethPair, startTcpdumpIn, type VethPair } from '../capture/netns.js'

function skipReason(): string | false {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces'
  for (const tool of ['ip', 'ethtool', 'tcpdump', 'tshark', 'nginx', 'curl', 'ab', 'wrk']) if (!have(tool)) return `needs ${tool}`
  return false
}
const skip = skipReason()
const { dir, cleanup } = tempDir('netkit-httpveth-')
const capture = join(dir, 'veth.pcap')
let pair: VethPair | undefined
const children: Array<ReturnType<typeof spawn>> = []
let liveLog = ''
let liveErr = ''
/** What tcpdump printed at exit: its file misses the packets it dropped. */
let tcpdumpDropped = NaN

/** Runs a client in the client namespace; it must succeed. */
function client(cmd: string, args: string[]): string {
  const r = spawnSync('ip', ['netns', 'exec', pair!.peerNs, cmd, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 24 })
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

before(async () => {
  if (skip) return
  pair = createVethPair()
  for (const [ns, dev] of [[pair.ns, pair.iface], [pair.peerNs, pair.peerIface]]) {
    pair.exec(ns, 'ip', ['link', 'set', dev, 'mtu', '1500'])
    // Offloads off: the segments on the wire are what an Ethernet NIC would carry (no 64 KiB
    // GSO super-packets in the capture).
    spawnSync('ip', ['netns', 'exec', ns, 'ethtool', '-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off'])
  }
  const www = join(dir, 'www')
  mkdirSync(www)
  writeFileSync(join(www, 'index.html'), '<html>hello over a veth</html>\n')
  writeFileSync(join(www, 'big.bin'), Buffer.alloc(200_000, 0x62))
  writeFileSync(join(www, 'text.txt'), 'the quick brown fox jumps over the lazy dog\n'.repeat(3000))
  const port = 8080
  const conf = join(dir, 'nginx.conf')
  writeFileSync(conf, `
daemon off;
master_process off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  types { text/html html; text/plain txt; application/octet-stream bin; }
  keepalive_requests 100000;
  server {
    listen ${pair.addr}:${port};
    root ${www};
    gzip on; gzip_types text/plain; gzip_min_length 100;
  }
}
`)
  const nginx = spawn('ip', ['netns', 'exec', pair.ns, 'nginx', '-p', dir, '-c', conf], { stdio: 'ignore' })
  children.push(nginx)
  const base = `http://${pair.addr}:${port}`
  for (let i = 0; ; i++) {
    if (spawnSync('ip', ['netns', 'exec', pair.peerNs, 'curl', '-s', '-o', '/dev/null', `${base}/`]).status === 0) break
    assert.ok(i < 100, 'nginx did not start in the namespace')
    await sleep(50)
  }
  const tcpdump = await startTcpdumpIn(pair, pair.ns, pair.iface, capture, ['tcp port 8080'])
  children.push(tcpdump.child)
  // netkit http-log on the same interface, live, at the same time.
  const live = spawn('ip', ['netns', 'exec', pair.ns, process.execPath, join(root, 'bin', 'run.js'), 'http-log', '-i', pair.iface, '--json', 'tcp port 8080'], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(live)
  const liveDone = new Promise((resolve) => live.once('close', resolve))
  live.stdout!.on('data', (d) => { liveLog += d })
  await new Promise<void>((resolve, reject) => {
    live.stderr!.on('data', (d) => { liveErr += d; if (liveErr.includes('listening on')) resolve() })
    live.once('close', () => reject(new Error(`http-log -i exited: ${liveErr}`)))
  })
  client('curl', ['-s', '-o', '/dev/null', `${base}/index.html`, `${base}/big.bin`, `${base}/missing`])
  client('curl', ['-s', '-o', '/dev/null', '--compressed', `${base}/text.txt`])
  client('curl', ['-s', '-o', '/dev/null', '-I', `${base}/index.html`])
  client('curl', ['-s', '-o', '/dev/null', '-0', `${base}/index.html`])
  client('ab', ['-q', '-k', '-n', '200', '-c', '4', `${base}/index.html`])
  client('wrk', ['-t', '1', '-c', '2', '-d', '1s', `${base}/index.html`])
  client(process.execPath, [join(root, 'bin', 'run.js'), 'http', `${base}/text.txt`, '-c', '4', '-n', '300', '-H', 'Accept-Encoding: gzip'])
  await sleep(300)
  live.kill('SIGINT')
  tcpdumpDropped = (await tcpdump.stop()).dropped
  await liveDone
})

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  pair?.cleanup()
  if (!process.env.KEEP) cleanup()
})

test('http-log over a 1500-byte-MTU veth (curl, ab, wrk, netkit http vs nginx) equals tshark', { skip }, async () => {
  const log = await assertHttpLogMatchesTshark(capture, 500)
  const agents = new Set(log.map((t) => String(t.user_agent ?? '').split('/')[0]))
  for (const a of ['curl', 'ApacheBench', 'netkit']) assert.ok(agents.has(a), `no request from ${a} (saw ${[...agents].join(', ')})`)
  // The 200 kB body crossed > 100 segments of at most 1448 bytes, and was reassembled whole.
  assert.ok(log.some((t) => t.uri === '/big.bin' && t.response_body_bytes === 200_000), 'the large body')
  assert.ok(log.some((t) => t.chunked === true), 'a chunked (gzip) body')
})

test('http-log -i on the live interface logs the same transactions as from the file', { skip }, async () => {
  const pick = (t: Record<string, unknown>) => [t.client, t.method, t.uri, t.status, t.request_bytes, t.response_bytes].join(' ')
  const fromFile = (await netkitLog(capture)).map(pick).sort()
  const fromWire = liveLog.trim().split('\n').map((l) => pick(JSON.parse(l))).sort()
  assert.match(liveErr, /\d+ packets captured\n\d+ packets received by filter\n0 packets dropped by kernel/)
  assert.ok(fromWire.length >= 500, `live log has ${fromWire.length} transactions`)
  if (tcpdumpDropped === 0) return assert.deepEqual(fromWire, fromFile)
  // tcpdump lost packets: the transactions those carried are missing from its file (or cut
  // short), but every whole one that is there was logged live too.
  const live = new Map<string, number>()
  for (const t of fromWire) live.set(t, (live.get(t) ?? 0) + 1)
  const whole = (await netkitLog(capture)).filter((t) => t.cut_short !== true).map(pick)
  for (const t of whole) {
    const n = live.get(t) ?? 0
    assert.ok(n > 0, `${t} is in tcpdump's file (which lost ${tcpdumpDropped} packets) but not in the live log`)
    live.set(t, n - 1)
  }
  assert.ok(fromFile.length >= fromWire.length * 0.9, `the file has ${fromFile.length} of the ${fromWire.length} live transactions`)
})
