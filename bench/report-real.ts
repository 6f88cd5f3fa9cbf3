/**
 * The HTML report of a 1M-packet real capture: how long `netkit report` takes, how big the page
 * is (target < 5 MB) and how long headless Chromium takes to render it (target < 5 s, from
 * navigation start to the last chart drawn, as the page's clock measures it), and, side by side
 * in one run, `netkit stats` against `tshark -q -z` for the same tables (--stats; tshark takes
 * about a minute a table set on this file).
 *
 *   npm run build && node --import tsx bench/read-real.ts --rounds 1   # makes the 1M file once
 *   node --import tsx bench/report-real.ts [--packets 1000000] [--stats]
 *
 * The capture is bench/read-real.ts's (wrk against nginx, grown to --packets), from its cache.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { root } from '../test/helpers/cli.js'
import { browserMissing, ReportBrowser } from '../test/stats/browser.js'
import { have, measure } from './lib/measure.js'

const argv = process.argv.slice(2)
const arg = (name: string, fallback: string): string => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : fallback
}
const packets = Number(arg('--packets', '1000000'))
const file = join(tmpdir(), 'netkit-read-real', `real-v2-${packets}.pcap`)
if (!existsSync(file)) {
  console.log(`${file} is not there: make it first with node --import tsx bench/read-real.ts --packets ${packets} --rounds 1`)
  process.exit(0)
}
const netkit = [process.execPath, join(root, 'bin', 'run.js')]
const dir = mkdtempSync(join(tmpdir(), 'netkit-report-bench-'))
try {
  const html = join(dir, 'report.html')
  const made = measure(netkit[0], [...netkit.slice(1), 'report', '-r', file, '-o', html], 1)
  const size = statSync(html).size
  console.log(`${file}: ${packets} packets, ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB`)
  console.log(`netkit report: ${made.wallS.toFixed(1)} s wall, ${made.cpuS.toFixed(1)} s CPU, ${(made.maxRssKiB / 1024).toFixed(0)} MiB peak; page ${(size / 1e6).toFixed(2)} MB (target < 5 MB)`)
  const missing = browserMissing()
  if (missing) console.log(`render: skipped (${missing})`)
  else {
    const browser = await ReportBrowser.launch()
    try {
      const times: number[] = []
      for (let i = 0; i < 3; i++) {
        const r = await browser.render(html)
        if (r.errors.length > 0) console.log(`console errors: ${r.errors.join('; ')}`)
        times.push(r.renderMs)
      }
      times.sort((a, b) => a - b)
      console.log(`render in headless Chromium: median ${(times[1] / 1000).toFixed(2)} s of 3 (${times.map((t) => (t / 1000).toFixed(2)).join(', ')}) (target < 5 s)`)
    } finally {
      await browser.close()
    }
  }
  if (argv.includes('--stats') && have('tshark')) {
    const specs = ['conv,tcp', 'endpoints,ip', 'io,phs', 'http,tree', 'io,stat,1']
    const ours = measure(netkit[0], [...netkit.slice(1), 'stats', '-r', file, ...specs], 1)
    const peer = measure('tshark', ['-n', '-r', file, '-q', ...specs.flatMap((s) => ['-z', s])], 1)
    console.log(`stats ${specs.join(' ')}: tshark ${peer.wallS.toFixed(1)} s, netkit ${ours.wallS.toFixed(1)} s: ${(peer.wallS / ours.wallS).toFixed(1)}x`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
