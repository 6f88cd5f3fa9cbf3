/**
 * A self-contained HTML report: the charting library (uPlot, read from node_modules when the
 * report is written), the page script and the report's data as JSON, all inline. The page loads
 * nothing from anywhere (a Content-Security-Policy of `default-src 'none'` says so to the
 * browser), so it opens offline and can be mailed.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { CLIENT_SCRIPT, CLIENT_STYLE } from './client-script.js'

const require = createRequire(import.meta.url)

let library: { js: string; css: string } | undefined

/** uPlot's minified browser build and its stylesheet (see docs/reports.md for the choice). */
function uplot(): { js: string; css: string } {
  library ??= {
    js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  }
  return library
}

/** JSON that can sit inside a <script> element (no `</script>`, no HTML comment openers). */
function scriptJson(data: unknown): string {
  return JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
}

/** The whole page for report `data` (its `kind` picks the layout: capture or load). */
export function reportHtml(title: string, data: unknown): string {
  const lib = uplot()
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${lib.css}
${CLIENT_STYLE}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<div id="report"></div>
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>${lib.js.replace(/<\/script/gi, '<\\/script')}</script>
<script>${CLIENT_SCRIPT}</script>
</body></html>
`
}
