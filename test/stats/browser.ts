/**
 * Renders netkit's HTML reports in Debian's headless Chromium (playwright-core drives it over the
 * DevTools protocol; no browser is downloaded). One browser serves several pages. Each page is
 * opened from its file with the network cut off (every request but the file itself fails and is
 * recorded), so a report that fetched anything would show it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium'

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `needs Debian's chromium at ${CHROMIUM} (apt-get install chromium)`
}

/** What a rendered report showed. */
export interface Rendered {
  /** Console errors and uncaught page errors. */
  errors: string[]
  /** Requests the page made other than its own file. */
  requests: string[]
  /** Each chart: its id, the points it was given and the pixels of its canvases drawn in series colours. */
  charts: Array<{ id: string; points: number; drawnPixels: number }>
  /** From navigation start to the last chart drawn, as the page's clock measured it (ms). */
  renderMs: number
}

/**
 * Run in the page: the render time so far and, for each chart the report script listed, the
 * pixels of its canvases drawn in saturated colours (axes, grid and labels are grey; the series
 * are drawn in colour).
 */
const PAGE_PROBE = `(() => ({
  renderMs: performance.now(),
  charts: window.netkitReport.charts.map((c) => {
    let drawnPixels = 0
    for (const canvas of document.getElementById(c.id)?.querySelectorAll('canvas') ?? []) {
      const ctx = canvas.getContext('2d')
      if (!ctx || canvas.width === 0) continue
      const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3] === 0) continue
        if (Math.max(px[i], px[i + 1], px[i + 2]) - Math.min(px[i], px[i + 1], px[i + 2]) > 60) drawnPixels++
      }
    }
    return { id: c.id, points: c.points, drawnPixels }
  }),
}))()`

/** A headless Chromium with a fresh profile, closed (and the profile removed) by close(). */
export class ReportBrowser {
  private constructor(private readonly browser: BrowserContext, private readonly profile: string) {}

  static async launch(): Promise<ReportBrowser> {
    const profile = mkdtempSync(join(tmpdir(), 'netkit-chromium-'))
    // The fresh profile is Chromium's --user-data-dir (playwright passes it for a persistent context).
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    })
    return new ReportBrowser(browser, profile)
  }

  /** Opens `file`, waits for the report script, and reads what it drew; a screenshot to `png` if given. */
  async render(file: string, png?: string): Promise<Rendered> {
    const page = await this.browser.newPage()
    const errors: string[] = []
    const requests: string[] = []
    const url = `file://${file}`
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()) })
    page.on('pageerror', (e) => errors.push(String(e)))
    await page.route('**/*', (route) => {
      if (route.request().url() === url) return route.continue()
      requests.push(route.request().url())
      return route.abort()
    })
    try {
      await page.goto(url, { waitUntil: 'load' })
      // The page-side code is text: it runs in the browser, where window and document are.
      await page.waitForFunction('window.netkitReport !== undefined', undefined, { timeout: 60_000 })
      const result = await page.evaluate(PAGE_PROBE) as { renderMs: number; charts: Rendered['charts'] }
      if (png) await page.screenshot({ path: png, fullPage: true })
      return { errors, requests, ...result }
    } finally {
      await page.close()
    }
  }

  async close(): Promise<void> {
    await this.browser.close()
    rmSync(this.profile, { recursive: true, force: true })
  }
}
