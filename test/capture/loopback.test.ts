/**
 * Capture on a loopback device: the kernel hands a packet socket each packet twice there (once
 * outgoing, once incoming); netkit keeps one, as libpcap does, so the file equals tcpdump's.
 * Runs on the loopback of a namespace the test creates (never the machine's own lo).
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { have, tempDir, tsharkFields } from '../helpers/cli.js'
import { captureSkip, createVethPair, endCounts, startTcpdumpIn, startCapture } from './netns.js'

const skip = captureSkip() || (!have('tcpdump') && 'needs tcpdump')

test('on lo each packet is captured once, the same packets tcpdump captures', { skip }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  const ours = join(tmp.dir, 'netkit.pcap')
  const theirs = join(tmp.dir, 'tcpdump.pcap')
  const tcpdump = await startTcpdumpIn(pair, pair.ns, 'lo', theirs, ['tcp port 8080'])
  t.after(() => tcpdump.child.kill('SIGKILL'))
  const cap = await startCapture(pair, ['-i', 'lo', '-w', ours, 'tcp port 8080'])
  t.after(() => cap.child.kill('SIGKILL'))
  // A server and a client in the namespace, over its loopback: 10 requests on one connection.
  pair.exec(pair.ns, process.execPath, ['-e', `
    const http = require('node:http')
    const s = http.createServer((q, r) => r.end('y'.repeat(500))).listen(8080, '127.0.0.1', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      for (let i = 0; i < 10; i++) await new Promise((ok) => http.get({ host: '127.0.0.1', port: 8080, path: '/' + i, agent }, (r) => { r.resume(); r.on('end', ok) }))
      agent.destroy(); s.close()
    })`])
  await sleep(300)
  cap.child.kill('SIGINT')
  assert.equal((await cap.exited).code, 0, cap.stderr())
  await tcpdump.stop()
  const fields = ['frame.len', 'ip.src', 'tcp.srcport', 'tcp.seq_raw', 'tcp.flags', 'tcp.len']
  const a = tsharkFields(ours, fields).trim().split('\n')
  const b = tsharkFields(theirs, fields).trim().split('\n')
  assert.ok(b.length >= 20, `tcpdump saw ${b.length} packets`)
  assert.deepEqual(a, b)
  assert.equal(endCounts(cap.stderr()).captured, a.length)
})
