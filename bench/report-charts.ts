/**
 * The chart library comparison behind docs/reports.md: the same data (an I/O graph of 2 x 2000
 * points and a scatter of 1000) drawn by uPlot (netkit's dependency) and by ECharts, each page
 * self-contained, rendered three times in headless Chromium; prints each library's size and the
 * median time from navigation start to the charts drawn. ECharts is not a dependency: point
 * --echarts at its dist/echarts.min.js (npm install echarts in a scratch folder).
 *
 *   node --import tsx bench/report-charts.ts --echarts /tmp/x/node_modules/echarts/dist/echarts.min.js
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { browserMissing, ReportBrowser } from '../test/stats/browser.js'

const argv = process.argv.slice(2)
const echartsPath = argv[argv.indexOf('--echarts') + 1]
const missing = browserMissing()
if (missing) { console.log(`skipped: ${missing}`); process.exit(0) }
const require = createRequire(import.meta.url)
const uplot = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8')
const echarts = argv.includes('--echarts') ? readFileSync(echartsPath, 'utf8') : undefined

const t = Array.from({ length: 2000 }, (_, i) => i / 100)
const a = t.map((x) => Math.round(500 + 400 * Math.sin(x) + 100 * Math.sin(7 * x)))
const b = a.map((v) => v * 1400)
const sx = Array.from({ length: 1000 }, (_, i) => i / 50)
const sy = sx.map((x) => Math.round(x * 1e5 + 5e4 * Math.sin(x)))
const data = JSON.stringify({ t, a, b, sx, sy })
const done = `window.netkitReport = { charts: [{ id: 'c0', points: 1 }, { id: 'c1', points: 1 }, { id: 'c2', points: 1 }] };`

const pages: Record<string, string> = {
  uPlot: `<!DOCTYPE html><html><body><div id="c0"></div><div id="c1"></div><div id="c2"></div><script>${uplot}</script><script>
var d = ${data}; var o = function (s) { return { width: 800, height: 260, series: [{}, s] }; };
new uPlot(o({ label: 'packets', stroke: '#1f77b4' }), [d.t, d.a], document.getElementById('c0'));
new uPlot(o({ label: 'bytes', stroke: '#2ca02c' }), [d.t, d.b], document.getElementById('c1'));
new uPlot(o({ label: 'seq', stroke: '#d62728', paths: function () { return null; }, points: { show: true, size: 3 } }), [d.sx, d.sy], document.getElementById('c2'));
${done}</script></body></html>`,
}
if (echarts) {
  pages.ECharts = `<!DOCTYPE html><html><body><div id="c0" style="width:800px;height:260px"></div><div id="c1" style="width:800px;height:260px"></div><div id="c2" style="width:800px;height:260px"></div><script>${echarts}</script><script>
var d = ${data}; var n = 0;
function mk(id, series) { var c = echarts.init(document.getElementById(id), null, { renderer: 'canvas' }); c.on('finished', function () { if (++n === 3) { ${done} } }); c.setOption({ animation: false, dataZoom: [{ type: 'inside' }], xAxis: { type: 'value' }, yAxis: { type: 'value' }, series: [series] }); }
mk('c0', { type: 'line', showSymbol: false, data: d.t.map(function (x, i) { return [x, d.a[i]]; }) });
mk('c1', { type: 'line', showSymbol: false, data: d.t.map(function (x, i) { return [x, d.b[i]]; }) });
mk('c2', { type: 'scatter', symbolSize: 3, data: d.sx.map(function (x, i) { return [x, d.sy[i]]; }) });
</script></body></html>`
}

const dir = mkdtempSync(join(tmpdir(), 'netkit-charts-'))
const browser = await ReportBrowser.launch()
try {
  for (const [name, html] of Object.entries(pages)) {
    const file = join(dir, `${name}.html`)
    writeFileSync(file, html)
    const times: number[] = []
    for (let i = 0; i < 3; i++) times.push((await browser.render(file)).renderMs)
    times.sort((x, y) => x - y)
    const lib = name === 'uPlot' ? uplot : echarts!
    console.log(`${name}: library ${(Buffer.byteLength(lib) / 1024).toFixed(0)} KiB minified; render median ${times[1].toFixed(0)} ms (${times.map((x) => x.toFixed(0)).join(', ')})`)
  }
} finally {
  await browser.close()
  rmSync(dir, { recursive: true, force: true })
}
