// -Y EXPR on the commands, run as a user runs them: the packets selected equal tshark -Y's,
// -w writes only those, -c counts them, the stream commands are fed only them, capture applies
// it after the kernel filter, and a bad expression is one usage line (exit 2).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { corpus, needs, netkit, tempDir, tsharkFields } from '../helpers/cli.js'
import { httpCapture } from '../helpers/http-capture.js'
import { isRoot } from '../helpers/servers.js'
import { captureSkip, createVethPair, startCapture, startTcpdumpIn } from '../capture/netns.js'

const handshake = join(corpus, 'tcpdump', 'tcp-handshake-nano.pcap')
const { dir, cleanup } = tempDir('netkit-dfilter-cli-')
// A real HTTP capture (nginx, node:http and curl on loopback, recorded by tcpdump).
const httpSkip = !isRoot() ? 'recording on lo needs root (CI runs as root)' : needs('tcpdump', 'nginx', 'curl', 'tshark')
let http = handshake
before(async () => { if (!httpSkip) http = await httpCapture(dir) })
after(() => cleanup())

test('a bad display filter is one line naming the place, exit 2, and nothing else', async () => {
  for (const [expr, place] of [['tcp.port == 80 and', /at offset \d+/], ['nosuch.field == 1', /nosuch\.field/], ['tcp.port = = 80', /at offset \d+/], ['ip.src contains "x"', /at offset \d+/]] as const) {
    for (const cmd of [['read', '-r', http], ['streams', '-r', http], ['http-log', '-r', http], ['follow', '-r', http, '0']]) {
      const r = await netkit([...cmd, '-Y', expr])
      assert.equal(r.code, 2, `${cmd[0]} -Y '${expr}': ${r.stderr}`)
      assert.equal(r.stdout, '')
      const lines = r.stderr.trimEnd().split('\n')
      assert.equal(lines.length, 1, r.stderr)
      assert.match(lines[0], new RegExp(`^netkit ${cmd[0]}: display filter: `))
      assert.match(lines[0], place)
    }
  }
})

test('read -Y prints the packets tshark -Y selects, in every format', { skip: httpSkip }, async () => {
  const expr = 'tcp.len > 0 && tcp.flags.push == 1'
  const want = tsharkFields(http, ['frame.number'], ['-Y', expr]).trim().split('\n')
  assert.ok(want.length > 1 && want.length < 200, 'the filter selects some packets, not all')
  const fields = await netkit(['read', '-r', http, '-Y', expr, '-T', 'fields', '-e', 'frame.number'])
  assert.equal(fields.code, 0, fields.stderr)
  assert.deepEqual(fields.stdout.trim().split('\n'), want)
  // The text lines are those of the unfiltered run for the same frames, up to the TCP length.
  // After it, an unfiltered run shows the application layer per segment, as tcpdump does; with
  // -Y, TCP hands HTTP the reassembled stream the filter is evaluated on (tshark's view), so a
  // message spanning segments is named on the frame that completes it.
  const upToLength = (l: string | undefined) => l?.replace(/(, length \d+).*$/, '$1')
  const all = (await netkit(['read', '-r', http])).stdout.split('\n')
  const text = await netkit(['read', '-r', http, '-Y', expr])
  assert.deepEqual(text.stdout.trim().split('\n').map(upToLength), want.map((n) => upToLength(all[Number(n) - 1])))
  const json = await netkit(['read', '-r', http, '-Y', expr, '-T', 'ndjson'])
  assert.deepEqual(json.stdout.trim().split('\n').map((l) => String(JSON.parse(l).frame.number)), want)
  // -c counts the packets kept, as tcpdump's -c counts those its filter kept.
  const two = await netkit(['read', '-r', http, '-Y', expr, '-c', '2', '-T', 'fields', '-e', 'frame.number'])
  assert.deepEqual(two.stdout.trim().split('\n'), want.slice(0, 2))
  // With a capture filter too: -Y applies to what the capture filter kept.
  const both = await netkit(['read', '-r', http, '-Y', 'tcp.len > 0', '-T', 'fields', '-e', 'frame.number', 'tcp[tcpflags] & tcp-push != 0'])
  assert.deepEqual(both.stdout.trim().split('\n'), want)
})

test('read -Y -w writes exactly the packets tshark -Y -w writes', { skip: httpSkip }, async () => {
  for (const [expr, format] of [['tcp.flags.push == 1', 'pcap'], ['http.request or tcp.flags.fin == 1', 'pcapng']]) {
    const ours = join(dir, `ours.${format}`)
    const theirs = join(dir, `theirs.${format}`)
    const r = await netkit(['read', '-r', http, '-Y', expr, '-w', ours, '-F', format])
    assert.equal(r.code, 0, r.stderr)
    tsharkFields(http, ['frame.number'], ['-Y', expr, '-w', theirs, '-F', format])
    const fields = ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'tcp.seq_raw', 'tcp.flags']
    const a = tsharkFields(ours, fields)
    assert.ok(a.trim().split('\n').length >= 2)
    assert.equal(a, tsharkFields(theirs, fields), expr)
  }
})

test('streams, follow and http-log are fed only the packets -Y selects', { skip: httpSkip }, async () => {
  const all = await netkit(['streams', '-r', http, '--json'])
  assert.ok(all.stdout.trim().split('\n').length >= 3, 'the capture has several connections')
  const none = await netkit(['streams', '-r', http, '--json', '-Y', 'udp'])
  assert.equal(none.code, 0, none.stderr)
  assert.equal(none.stdout, '')
  const one = await netkit(['streams', '-r', http, '--json', '-Y', 'tcp.stream == 1'])
  assert.equal(one.stdout.trim().split('\n').length, 1)
  // http-log sees the transactions of that connection only: as many as tshark finds requests.
  const requests = tsharkFields(http, ['frame.number'], ['-Y', 'tcp.stream == 1 && http.request']).trim().split('\n')
  const log = await netkit(['http-log', '-r', http, '--json', '-Y', 'tcp.stream == 1'])
  assert.equal(log.code, 0, log.stderr)
  assert.equal(log.stdout.trim().split('\n').length, requests.length)
  assert.equal((await netkit(['http-log', '-r', http, '--json', '-Y', 'frame.number > 100000'])).stdout, '')
  assert.equal((await netkit(['http-log', '-r', http, '--json', '-Y', 'tcp'])).stdout, (await netkit(['http-log', '-r', http, '--json'])).stdout)
  // follow numbers the streams it is fed: stream 1 alone is its stream 0.
  const follow = await netkit(['follow', '-r', http, '0', '-Y', 'tcp.stream == 1'])
  assert.equal(follow.code, 0, follow.stderr)
  assert.ok(follow.stdout.includes('GET /'))
  assert.equal(follow.stdout, (await netkit(['follow', '-r', http, '1'])).stdout.replace('tcp.stream eq 1', 'tcp.stream eq 0'))
})

test('-Y reads fields of every dissector, frame fields and slices', { skip: needs('tshark') }, async () => {
  for (const expr of ['frame.len > 100 and ip.ttl >= 64', 'eth.src[0:3] == 00:00:00 or tcp.window_size_value > 1000', 'frame[12:2] == 08:00 && !(tcp.port in {22, 443})']) {
    const want = tsharkFields(handshake, ['frame.number'], ['-Y', expr])
    const got = await netkit(['read', '-r', handshake, '-Y', expr, '-T', 'fields', '-e', 'frame.number'])
    assert.equal(got.code, 0, got.stderr)
    assert.equal(got.stdout, want, expr)
  }
})

test('capture -Y keeps what the kernel filter passed and the display filter matches, also with -w', { skip: captureSkip() || needs('tcpdump', 'tshark') }, async (t) => {
  const pair = createVethPair()
  t.after(() => pair.cleanup())
  const all = join(dir, 'all.pcap')
  const ours = join(dir, 'syn.pcap')
  const expr = 'tcp.flags.syn == 1 && tcp.flags.ack == 0'
  const tcpdump = await startTcpdumpIn(pair, pair.ns, 'lo', all, ['tcp port 8080'])
  t.after(() => tcpdump.child.kill('SIGKILL'))
  const cap = await startCapture(pair, ['-i', 'lo', '-w', ours, '-Y', expr, 'tcp port 8080'])
  t.after(() => cap.child.kill('SIGKILL'))
  const printed = await startCapture(pair, ['-i', 'lo', '-c', '3', '-Y', expr, '-T', 'fields', '-e', 'tcp.dstport', '-e', 'tcp.flags', 'tcp port 8080'])
  t.after(() => printed.child.kill('SIGKILL'))
  // Three connections of two requests each in the namespace, over its loopback.
  pair.exec(pair.ns, process.execPath, ['-e', `
    const http = require('node:http')
    const s = http.createServer((q, r) => r.end('y'.repeat(300))).listen(8080, '127.0.0.1', async () => {
      for (let c = 0; c < 3; c++) {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
        for (let i = 0; i < 2; i++) await new Promise((ok) => http.get({ host: '127.0.0.1', port: 8080, path: '/' + i, agent }, (r) => { r.resume(); r.on('end', ok) }))
        agent.destroy()
      }
      s.close()
    })`])
  await sleep(300)
  cap.child.kill('SIGINT')
  assert.equal((await cap.exited).code, 0, cap.stderr())
  const p = await printed.exited
  assert.equal(p.code, 0, printed.stderr())
  assert.deepEqual(printed.stdout().trim().split('\n'), ['8080\t0x0002', '8080\t0x0002', '8080\t0x0002'])
  await tcpdump.stop()
  const fields = ['frame.len', 'tcp.srcport', 'tcp.seq_raw', 'tcp.flags']
  const want = tsharkFields(all, fields, ['-Y', expr])
  assert.equal(want.trim().split('\n').length, 3)
  assert.equal(tsharkFields(ours, fields), want)
})
