/** The shared corpus of real captures, listed for tests. */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { corpus } from './cli.js'

/** Every .pcap/.pcapng file under ../shared/corpus (sorted), or [] when it is not there. */
export function corpusFiles(sub = ''): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    let names: string[]
    try { names = readdirSync(dir).sort() } catch { return }
    for (const n of names) {
      const p = join(dir, n)
      if (statSync(p).isDirectory()) walk(p)
      else if (/\.(pcap|pcapng|cap)$/.test(n)) out.push(p)
    }
  }
  walk(join(corpus, sub))
  return out
}
