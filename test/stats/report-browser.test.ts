/**
 * The HTML reports in a real browser (Debian's headless Chromium): a capture report of a real
 * HTTP capture (curl and node:http against nginx, recorded by tcpdump) and a load report of
 * `netkit http --report` against a node:http server on loopback, both rendered by one browser.
 * Each must render without console errors and without a single request beyond its own file, and
 * every chart must hold drawn data (points given to it, and pixels in series colours on its
 * canvas).
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import { statSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { needs, netkit, tempDir } from '../helpers/cli.js'
import { httpCapture } from '../helpers/http-capture.js'
import { browserMissing, ReportBrowser, type Rendered } from './browser.js'

const skip = browserMissing() ?? needs('nginx', 'curl', 'tcpdump')
const { dir, cleanup } = tempDir('netkit-report-')
after(() => cleanup())

function assertDrawn(r: Rendered, expected: string[]): void {
  assert.deepEqual(r.errors, [], 'console errors')
  assert.deepEqual(r.requests, [], 'the report fetched something')
  const ids = r.charts.map((c) => c.id)
  for (const id of expected) assert.ok(ids.includes(id), `chart ${id} missing (have ${ids.join(', ')})`)
  for (const c of r.charts) {
    assert.ok(c.points > 0, `${c.id}: no data points`)
    // A point is a few pixels across; a line or a dozen points many more.
    assert.ok(c.drawnPixels >= Math.min(20, 4 * c.points), `${c.id}: nothing drawn (${c.drawnPixels} coloured pixels for ${c.points} points)`)
  }
}

test('capture and load reports render in headless Chromium with every plot drawn', { skip, timeout: 180_000 }, async () => {
  const capture = await httpCapture(dir)
  const captureHtml = join(dir, 'capture.html')
  const made = await netkit(['report', '-r', capture, '-o', captureHtml])
  assert.equal(made.code, 0, made.stderr)
  const page = readFileSync(captureHtml, 'utf8')
  assert.ok(!/<(script|link|img|iframe)[^>]+(src|href)=/i.test(page), 'the page loads something by reference')

  const server = http.createServer((req, res) => {
    req.resume()
    if (req.url === '/missing') { res.writeHead(404); res.end('no'); return }
    setTimeout(() => res.end('hello'), 1)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const loadHtml = join(dir, 'load.html')
  try {
    // As root, --capture lo adds the SYNs seen on the wire beside the dials.
    const capture = process.getuid?.() === 0 ? ['--capture', 'lo'] : []
    const r = await netkit(['http', `http://127.0.0.1:${port}/`, '-c', '4', '-d', '1s', '--think', '1', '--max-idle-per-host', '2', '--report', loadHtml, '--json', ...capture])
    assert.equal(r.code, 0, r.stderr)
    const run = JSON.parse(r.stdout)
    const data = JSON.parse(/<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(readFileSync(loadHtml, 'utf8'))![1])
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0)
    // The timeline adds up to the run's own counters.
    assert.equal(sum(data.connections.dialed), run.connectionStats.dialed)
    assert.equal(sum(data.connections.reused), run.connectionStats.reused)
    assert.equal(sum(Object.values(data.connections.closed as Record<string, number[]>).flat()), Object.values(run.connectionStats.closed as Record<string, number>).reduce((x, y) => x + y, 0))
    assert.equal(Math.round(sum(data.timeline.rps) * data.timeline.interval), run.requests)
    if (capture.length > 0) assert.equal(sum(data.connections.syns), run.wire.syns + run.wire.synRetransmits)
  } finally {
    server.close()
  }
  assert.ok(statSync(loadHtml).size < 1_000_000)

  const browser = await ReportBrowser.launch()
  try {
    assertDrawn(await browser.render(captureHtml), ['io-packets', 'io-bytes', 'stevens-0', 'throughput-0', 'http-ttfb', 'http-total', 'http-distribution', 'http-status'])
    assertDrawn(await browser.render(loadHtml), ['load-rps', 'load-latency', 'load-distribution', 'load-connections', 'load-closed', 'load-status'])
  } finally {
    await browser.close()
  }
})

test('report errors: unreadable input, unwritable output', async () => {
  const r = await netkit(['report', '-r', join(dir, 'none.pcap'), '-o', join(dir, 'x.html')])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /^netkit report: .*no such file/)
  const w = await netkit(['report', '-r', join(dir, 'none.pcap')])
  assert.equal(w.code, 2)
})
