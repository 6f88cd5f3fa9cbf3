/**
 * TCP analysis (tcp.analysis.*, tcp.seq/ack/nxtseq) against tshark 4.0 on real traffic the test
 * makes between two network namespaces: a node:http server sends and receives megabytes while
 * nft drops a share of the segments both ways (loss, retransmissions, duplicate ACKs, SACK),
 * a slow reader with a small receive buffer closes the window (zero window, probes, updates),
 * and an idle connection with TCP keep-alive set to one second sends keep-alives. Also the
 * shared corpus, display filters on analysis fields, and damaged copies of the capture.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { quiet } from '../helpers/servers.js'
import { corpusFiles } from '../helpers/corpus.js'
import { tsharkCorpus, tsharkLines } from '../helpers/tshark-corpus.js'
import { needs, netkit, root, run, sh, tempDir, tsharkFields } from '../helpers/cli.js'

/** The fields compared with tshark. */
const FIELDS = [
  'frame.number', 'tcp.stream', 'tcp.seq', 'tcp.ack', 'tcp.nxtseq', 'tcp.analysis', 'tcp.analysis.flags',
  'tcp.analysis.retransmission', 'tcp.analysis.fast_retransmission', 'tcp.analysis.spurious_retransmission',
  'tcp.analysis.out_of_order', 'tcp.analysis.lost_segment', 'tcp.analysis.ack_lost_segment',
  'tcp.analysis.duplicate_ack', 'tcp.analysis.duplicate_ack_num', 'tcp.analysis.duplicate_ack_frame',
  'tcp.analysis.zero_window', 'tcp.analysis.zero_window_probe', 'tcp.analysis.zero_window_probe_ack',
  'tcp.analysis.window_full', 'tcp.analysis.window_update', 'tcp.analysis.keep_alive', 'tcp.analysis.keep_alive_ack',
  'tcp.analysis.acks_frame', 'tcp.analysis.ack_rtt', 'tcp.analysis.bytes_in_flight', 'tcp.analysis.push_bytes_sent',
  'tcp.analysis.initial_rtt', 'tcp.analysis.rto', 'tcp.analysis.rto_frame', 'tcp.analysis.reused_ports',
]

/** Events the made traffic always holds (4% loss each way over megabytes, a closed window, keep-alives). */
const MUST_HOLD = ['tcp.analysis.retransmission', 'tcp.analysis.duplicate_ack', 'tcp.analysis.lost_segment',
  'tcp.analysis.zero_window', 'tcp.analysis.window_update', 'tcp.analysis.window_full',
  'tcp.analysis.keep_alive', 'tcp.analysis.keep_alive_ack', 'tcp.analysis.bytes_in_flight', 'tcp.analysis.initial_rtt', 'icmp.type']

function skipReason(): string | false {
  if (process.platform !== 'linux') return `needs Linux network namespaces (this is ${process.platform})`
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces and nft rules'
  return needs('ip', 'nft', 'ethtool', 'tcpdump', 'tshark', 'curl', 'wrk', 'python3')
}

/** compare-fields.py's normalisation: hex as decimal, booleans as 1/0. */
function norm(v: string): string {
  return v.split(',').map((p) => {
    const s = p.trim().toLowerCase()
    if (/^0x[0-9a-f]+$/.test(s)) return String(parseInt(s, 16))
    return s === 'true' ? '1' : s === 'false' ? '0' : s
  }).join(',')
}

/** Field values that differ between tshark and netkit on `file` (at most `show` described). */
async function differences(file: string, fields = FIELDS, show = 5): Promise<{ total: number; bad: number; shown: string[] }> {
  const ref = tsharkFields(file, fields).split('\n').filter((l, i, a) => l !== '' || i < a.length - 1)
  const r = await netkit(['read', '-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { timeoutMs: 120_000 })
  assert.equal(r.code, 0, `netkit read ${file}: ${r.stderr}`)
  const got = r.stdout.split('\n')
  let total = 0, bad = 0
  const shown: string[] = []
  ref.forEach((line, i) => {
    const a = line.split('\t'), b = (got[i] ?? '').split('\t')
    fields.forEach((name, j) => {
      total++
      if (norm(a[j] ?? '') !== norm(b[j] ?? '')) {
        bad++
        if (shown.length < show) shown.push(`frame ${i + 1} ${name}: tshark=${a[j]} netkit=${b[j]}`)
      }
    })
  })
  return { total, bad, shown }
}

/** Runs a client in a namespace to completion. */
function client(ns: string, cmd: string, args: string[]) {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], { timeoutMs: 60_000 })
}

let made: Promise<string> | undefined
const work = tempDir('netkit-tcp-analysis-')
process.on('exit', () => work.cleanup())

/** Makes the capture once (the tests below share it). */
function capture(): Promise<string> {
  made ??= record()
  return made
}

/** Three namespaces in a line, server - router - client, made and removed by the test. */
interface Path { server: string; router: string; client: string; serverIface: string; serverAddr: string; cleanup(): void }


function makePath(): Path {
  const id = process.pid % 100000
  const [server, router, client] = ['S', 'R', 'C'].map((n) => `nktcp${n}${id}`)
  const cleanup = (): void => { for (const ns of [server, router, client]) spawnSync('ip', ['netns', 'del', ns]) }
  cleanup()
  try {
    for (const ns of [server, router, client]) {
      sh('ip', ['netns', 'add', ns])
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
      sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1'])
    }
    sh('ip', ['-n', server, 'link', 'add', 'nks0', 'type', 'veth', 'peer', 'name', 'nkr0', 'netns', router])
    sh('ip', ['-n', client, 'link', 'add', 'nkc0', 'type', 'veth', 'peer', 'name', 'nkr1', 'netns', router])
    const addrs: Array<[string, string, string]> = [[server, 'nks0', '10.214.1.1/24'], [router, 'nkr0', '10.214.1.2/24'], [router, 'nkr1', '10.214.2.2/24'], [client, 'nkc0', '10.214.2.1/24']]
    for (const [ns, dev, addr] of addrs) {
      sh('ip', ['-n', ns, 'addr', 'add', addr, 'dev', dev])
      // Segments the size of the MTU, as on a real link (no 64 KiB offload super-segments).
      spawnSync('ip', ['netns', 'exec', ns, 'ethtool', '-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off'])
      sh('ip', ['-n', ns, 'link', 'set', dev, 'up'])
    }
    sh('ip', ['-n', server, 'route', 'add', 'default', 'via', '10.214.1.2'])
    sh('ip', ['-n', client, 'route', 'add', 'default', 'via', '10.214.2.2'])
    sh('ip', ['netns', 'exec', router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'])
  } catch (err) {
    cleanup()
    throw err
  }
  return { server, router, client, serverIface: 'nks0', serverAddr: '10.214.1.1', cleanup }
}

/** Spawns a server in a namespace and waits for its "ready" line. */
async function server(ns: string, cmd: string, args: string[]): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stderr!.resume()
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} ${args.join(' ')} did not start`)), 15_000)
    child.stdout!.on('data', (d) => { if (String(d).includes('ready')) { clearTimeout(timer); resolve() } })
    child.once('close', () => { clearTimeout(timer); reject(new Error(`${cmd} exited`)) })
  })
  return child
}

/** Starts tcpdump in a namespace; stop() waits until the file is quiet and ends it with SIGINT. */
async function tcpdump(ns: string, iface: string, file: string): Promise<{ stop(): Promise<void> }> {
  const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', iface, '-n', '-Z', 'root', '-U', '--immediate-mode', '-B', '32768', '-w', file, 'tcp or icmp'], { stdio: ['ignore', 'ignore', 'pipe'] })
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
  let e = ''
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => { e += d; if (e.includes('listening')) resolve() })
    child.once('close', () => reject(new Error(`tcpdump exited: ${e}`)))
  })
  return { stop: async () => { await quiet(file, 500, 15_000); child.kill('SIGINT'); await closed } }
}

async function record(): Promise<string> {
  const file = join(work.dir, 'tcp-analysis.pcap')
  const path = makePath()
  const servers: ChildProcess[] = []
  try {
    const peers = join(root, 'test', 'wire', 'fixtures', 'tcp-peers.py')
    // The router drops 4% of the TCP segments it forwards, both ways: those from the server
    // were captured before they were lost (retransmissions, duplicate ACKs with SACK), those
    // from the client never reach the capture (lost segments, ACKs of unseen segments). The
    // keep-alive connection (port 9001) is spared so that its probes are answered. Connections
    // to port 9002 are refused with an ICMP error quoting the SYN (tshark analyses no quoted segment).
    const rules = join(work.dir, 'loss.nft')
    writeFileSync(rules, 'table inet netkitloss {\n' +
      ' chain lossy { type filter hook forward priority 0;\n' +
      '  tcp dport 9002 reject with icmp type host-unreachable\n' +
      '  meta l4proto tcp th sport != 9001 th dport != 9001 numgen random mod 100 < 4 drop; }\n}\n')
    sh('ip', ['netns', 'exec', path.router, 'nft', '-f', rules])
    servers.push(await server(path.server, process.execPath, [join(root, 'test', 'wire', 'fixtures', 'http-server.mjs'), '8080', String(1_500_000)]))
    servers.push(await server(path.server, 'python3', [peers, 'blast', '9000', String(1_000_000)]))
    servers.push(await server(path.server, 'python3', [peers, 'hold', '9001']))
    const dump = await tcpdump(path.server, path.serverIface, file)
    const upload = join(work.dir, 'upload.bin')
    writeFileSync(upload, Buffer.alloc(800_000, 'u'))
    const a = path.serverAddr
    const results = await Promise.all([
      client(path.client, 'curl', ['-s', '-o', '/dev/null', `http://${a}:8080/big`]),
      client(path.client, 'curl', ['-s', '-o', '/dev/null', '--data-binary', `@${upload}`, `http://${a}:8080/upload`]),
      client(path.client, 'wrk', ['-t1', '-c4', '-d1s', `http://${a}:8080/small`]),
      client(path.client, 'python3', [peers, 'slowread', a, '9000', '3']),
      client(path.client, 'python3', [peers, 'keepalive', a, '9001', '3.5']),
    ])
    for (const r of results) assert.equal(r.code, 0, r.stderr)
    const refused = await client(path.server, 'curl', ['-s', '--max-time', '2', 'http://10.214.2.1:9002/'])
    assert.notEqual(refused.code, 0, 'the router refuses port 9002')
    await dump.stop()
    return file
  } finally {
    for (const s of servers) s.kill('SIGKILL')
    path.cleanup()
  }
}

const skip = skipReason()

test('tcp.analysis.* and tcp.seq/ack/nxtseq equal tshark on lossy, zero-window and keep-alive traffic', { skip, timeout: 180_000 }, async () => {
  const file = await capture()
  const d = await differences(file)
  assert.equal(d.bad, 0, `${d.bad} of ${d.total} values differ:\n${d.shown.join('\n')}`)
  // The capture holds what the test is about (so agreement is not agreement on nothing).
  const present = tsharkFields(file, MUST_HOLD)
  MUST_HOLD.forEach((name, j) => {
    assert.ok(present.split('\n').some((l) => (l.split('\t')[j] ?? '') !== ''), `the capture has no ${name}`)
  })
})

test('display filters on analysis fields select tshark\'s packets', { skip, timeout: 120_000 }, async () => {
  const file = await capture()
  for (const expr of ['tcp.analysis.flags', 'tcp.analysis.duplicate_ack_num >= 2 || tcp.analysis.ack_rtt > 0.0005 && !tcp.analysis.zero_window']) {
    const ref = tsharkFields(file, ['frame.number'], ['-Y', expr])
    const r = await netkit(['read', '-r', file, '-Y', expr, '-T', 'fields', '-e', 'frame.number'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, ref, `-Y ${expr}`)
  }
})

test('-T text: every line of the lossy HTTP connections equals tcpdump -n\'s, retransmitted segments included', { skip, timeout: 120_000 }, async () => {
  const file = await capture()
  // The capture has HTTP segments that tshark calls retransmissions (their bytes do not reach
  // tshark's HTTP again): tcpdump, which does no such analysis, decodes them as any segment.
  const again = tsharkFields(file, ['frame.number'], ['-Y', 'tcp.port == 8080 && tcp.analysis.retransmission && tcp.len > 0'])
  assert.ok(again.trim().split('\n').length > 0 && again.trim() !== '', 'the capture has retransmitted HTTP segments')
  const want = (await run('tcpdump', ['-n', '-r', file])).stdout.split('\n')
  const r = await netkit(['read', '-r', file])
  assert.equal(r.code, 0, r.stderr)
  const got = r.stdout.split('\n')
  assert.equal(got.length, want.length)
  const http = (l: string) => /\.8080[ :]/.test(l)
  const differ = want.flatMap((l, i) => (http(l) && got[i] !== l ? [`tcpdump: ${l}\nnetkit:  ${got[i]}`] : []))
  assert.ok(want.filter(http).length > 1000, `${want.filter(http).length} HTTP lines`)
  assert.deepEqual(differ.slice(0, 5), [], `${differ.length} lines differ`)
})

test('tcp.analysis.* equals tshark on every file of the shared corpus', { skip: corpusFiles().length === 0 ? 'the shared corpus (../shared/corpus) is not here' : needs('tshark'), timeout: 300_000 }, async () => {
  for (const file of corpusFiles()) {
    // Files tshark cannot read, and files without TCP, have nothing to compare (the shared,
    // kept decode of the corpus says which).
    const decode = await tsharkCorpus(file)
    if (decode.code !== 0 || !tsharkLines(decode, ['tcp.stream']).some((l) => l !== '')) continue
    const d = await differences(file)
    assert.equal(d.bad, 0, `${file}: ${d.bad} of ${d.total} values differ:\n${d.shown.join('\n')}`)
  }
})

test('damaged copies of the capture: no exception, no hang, bounded memory', { skip, timeout: 120_000 }, async () => {
  const file = await capture()
  const data = readFileSync(file)
  let seed = 20
  const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32 }
  for (let round = 0; round < 2; round++) {
    const copy = Buffer.from(data.subarray(0, Math.floor(data.length * (0.5 + rnd() / 2))))
    // Flip bits past the file header: TCP headers, options, sequence numbers, lengths.
    for (let k = 0; k < copy.length / 200; k++) copy[24 + Math.floor(rnd() * (copy.length - 24))] ^= 1 << Math.floor(rnd() * 8)
    const damaged = join(work.dir, `damaged-${round}.pcap`)
    writeFileSync(damaged, copy)
    const r = await netkit(['read', '-r', damaged, '-T', 'fields', ...FIELDS.flatMap((f) => ['-e', f])],
      { timeoutMs: 60_000, env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=192' } })
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code} ${r.signal}: ${r.stderr.slice(0, 500)}`)
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace escaped')
    assert.ok(r.stdout.length > 0, 'nothing was read before the damage')
  }
})
