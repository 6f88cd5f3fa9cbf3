// HTTP read back from the wire: captures the test makes of real clients (curl, node:http, raw
// pipelining) against real servers (nginx, node:http) on loopback, compared with tshark; the
// same capture reordered and duplicated gives the same http-log; follow and streams equal
// tshark's -z follow / -z conv output.
import { before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { connect } from 'node:net'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { netkit, needs, run, tempDir } from '../helpers/cli.js'
import { freeLowPort, isRoot, recordWithTcpdump, startNginx, type Running } from '../helpers/servers.js'
import { assertHttpLogMatchesTshark, netkitLog } from '../helpers/http-compare.js'

const skip = !isRoot() ? 'capturing on lo needs root (CI runs as root)' : needs('tcpdump', 'tshark', 'nginx', 'curl')
const { dir, cleanup } = tempDir('netkit-httpwire-')
const capture = join(dir, 'http.pcap')
const running: Running[] = []
let nodeServer: http.Server | undefined
/** Servers on ports below the ephemeral range, decoded as HTTP by tshark (see freeLowPort). */
let nginxPort = 0
let nodePort = 0

async function curl(args: string[]): Promise<void> {
  const r = await run('curl', ['-s', '-o', '/dev/null', ...args])
  assert.equal(r.code, 0, `curl ${args.join(' ')}: ${r.stderr}`)
}

/** Writes raw requests on one connection at once (pipelining); the server closes after the last. */
function pipelined(port: number, requests: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(requests.join('')))
    s.on('data', () => {})
    s.on('close', () => resolve())
    s.on('error', reject)
  })
}

before(async () => {
  if (skip) return
  const www = join(dir, 'www')
  mkdirSync(www)
  writeFileSync(join(www, 'index.html'), '<html>hello</html>\n')
  writeFileSync(join(www, 'big.bin'), Buffer.alloc(300_000, 0x61))
  writeFileSync(join(www, 'text.txt'), 'lorem ipsum dolor sit amet '.repeat(4000))
  nginxPort = await freeLowPort()
  running.push(await startNginx(join(dir, 'nginx'), nginxPort, www))
  nodeServer = http.createServer((req, res) => {
    let n = 0
    req.on('data', (d) => { n += d.length })
    req.on('end', () => {
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' })
        for (let i = 0; i < 20; i++) res.write('chunk '.repeat(500))
        res.end()
      } else {
        res.writeHead(201, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ received: n }))
      }
    })
  })
  nodePort = await freeLowPort()
  await new Promise<void>((resolve) => nodeServer!.listen(nodePort, '127.0.0.1', resolve))
  await recordWithTcpdump(capture, `tcp port ${nginxPort} or tcp port ${nodePort}`, async () => {
    const n = `http://127.0.0.1:${nginxPort}`
    const o = `http://127.0.0.1:${nodePort}`
    // curl: keep-alive over several URLs, a large body, gzip, HEAD, 304, HTTP/1.0, Expect: 100-continue.
    await curl([`${n}/index.html`, `${n}/big.bin`, `${n}/text.txt`, `${n}/missing`])
    await curl(['--compressed', `${n}/text.txt`])
    await curl(['-I', `${n}/index.html`])
    await curl(['-H', 'If-Modified-Since: Wed, 01 Jan 2100 00:00:00 GMT', `${n}/index.html`])
    await curl(['-0', `${n}/index.html`])
    await curl(['-H', 'Expect: 100-continue', '--data-binary', `@${join(www, 'big.bin')}`, `${o}/upload`])
    await curl([`${o}/chunked`])
    // node:http client with a keep-alive agent: several requests on one connection.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    for (const path of ['/a', '/b?x=1', '/chunked']) {
      await new Promise<void>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: nodePort, path, agent }, (res) => { res.resume(); res.on('end', resolve) }).on('error', reject)
      })
    }
    agent.destroy()
    // Pipelining: three requests written at once on one connection to nginx.
    const req = (p: string, extra = '') => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: netkit-test\r\n${extra}\r\n`
    await pipelined(nginxPort, [req('/index.html'), req('/text.txt'), req('/big.bin', 'Connection: close\r\n')])
  })
})

after(async () => {
  for (const r of running.reverse()) await r.stop()
  nodeServer?.close()
  if (!process.env.KEEP) cleanup()
})

test('http-log finds every request and response tshark finds, with the same fields', { skip }, async () => {
  const log = await assertHttpLogMatchesTshark(capture, 14, [nginxPort, nodePort])
  // Methods and statuses the capture was built to hold.
  const seen = new Set(log.map((t) => `${t.method} ${t.status}`))
  for (const want of ['GET 200', 'GET 404', 'HEAD 200', 'GET 304', 'POST 201']) assert.ok(seen.has(want), `no ${want}`)
  assert.ok(log.some((t) => t.chunked === true && (t.response_body_bytes as number) > 60000), 'a chunked body across segments')
  assert.ok(log.some((t) => t.interim_responses === 1), 'an Expect: 100-continue exchange')
  assert.ok(log.some((t) => t.version === 'HTTP/1.0'), 'an HTTP/1.0 request')
})

/** Reorders (swaps neighbours) and duplicates packets of a classic pcap file, deterministically. */
function scramble(src: string, dst: string): number {
  const b = readFileSync(src)
  const records: Buffer[] = []
  for (let off = 24; off + 16 <= b.length;) {
    const len = b.readUInt32LE(off + 8)
    records.push(b.subarray(off, off + 16 + len))
    off += 16 + len
  }
  const out: Buffer[] = []
  let changes = 0
  for (let i = 0; i < records.length; i++) {
    if (i % 7 === 3 && i + 1 < records.length) { out.push(records[i + 1], records[i]); i++; changes++; continue }
    out.push(records[i])
    if (i % 5 === 2) { out.push(records[i]); changes++ }
  }
  writeFileSync(dst, Buffer.concat([b.subarray(0, 24), ...out]))
  return changes
}

test('a capture reordered and duplicated gives the same http-log', { skip }, async () => {
  const scrambled = join(dir, 'scrambled.pcap')
  assert.ok(scramble(capture, scrambled) > 10)
  const pick = (t: Record<string, unknown>) => [t.stream, t.method, t.uri, t.host, t.status, t.content_length_header, t.request_bytes, t.response_bytes].join(' ')
  const clean = (await netkitLog(capture)).map(pick).sort()
  const messy = (await netkitLog(scrambled)).map(pick).sort()
  assert.deepEqual(messy, clean)
})

/**
 * Copies a classic pcap file of Ethernet/IPv4/TCP frames without the first frame sent from
 * `port` whose payload continues a message (does not begin with `HTTP/`): a segment lost by the
 * capture in the middle of a response body. Returns whether one was found.
 */
function dropMidBodySegment(src: string, dst: string, port: number): boolean {
  const b = readFileSync(src)
  const out: Buffer[] = [b.subarray(0, 24)]
  let dropped = false
  for (let off = 24; off + 16 <= b.length;) {
    const len = b.readUInt32LE(off + 8)
    const rec = b.subarray(off, off + 16 + len)
    off += 16 + len
    const ip = 16 + 14
    const tcp = ip + (rec[ip] & 0x0f) * 4
    const payload = tcp + (rec[tcp + 12] >> 4) * 4
    const body = rec.subarray(payload)
    if (!dropped && rec.readUInt16BE(tcp) === port && body.length > 1000 && body.toString('latin1', 0, 5) !== 'HTTP/') {
      dropped = true
      continue
    }
    out.push(rec)
  }
  writeFileSync(dst, Buffer.concat(out))
  return dropped
}

test('a segment lost mid-body: parsing resumes at the next message, as tshark does', { skip }, async () => {
  const damaged = join(dir, 'lost-segment.pcap')
  assert.ok(dropMidBodySegment(capture, damaged, nginxPort), 'the capture has a response body over several segments')
  const pick = (t: Record<string, unknown>) => [t.stream, t.method, t.uri, t.status].join(' ')
  const clean = (await netkitLog(capture)).map(pick).sort()
  const lossy = (await netkitLog(damaged)).map(pick).sort()
  // Every response after the gap on that connection is still found and paired.
  assert.deepEqual(lossy, clean)
})

test('follow (ascii, hex, raw) and streams equal tshark on the capture', { skip }, async () => {
  const conv = await run('tshark', ['-n', '-q', '-r', capture, '-z', 'conv,tcp'])
  const ours = await netkit(['streams', '-r', capture])
  assert.equal(ours.stdout, conv.stdout)
  const count = (await netkit(['streams', '-r', capture, '--json'])).stdout.trim().split('\n').length
  for (let s = 0; s < count; s++) {
    for (const format of ['ascii', 'hex', 'raw']) {
      const ref = await run('tshark', ['-n', '-q', '-r', capture, '-z', `follow,tcp,${format},${s}`])
      const got = await netkit(['follow', '-r', capture, String(s), '--format', format])
      assert.equal(got.stdout, ref.stdout, `stream ${s} ${format}`)
    }
  }
})
