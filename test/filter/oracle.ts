/**
 * The filter oracle: which packets of a file libpcap selects for an expression (tcpdump, or
 * libpcap itself through libpcap-matches.py for many expressions in one process), and which
 * netkit's compiler selects, read with netkit's own reader in this process (a spawn per
 * expression would make a large expression set slow; the CLI path is covered by
 * compare-filter.py and the command tests).
 */
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FilterSyntaxError } from '../../src/errors.js'
import { BatchFilter } from '../../src/filter/batch-filter.js'
import { openCaptureFile } from '../../src/pcap/file-reader.js'

/** Packet numbers tcpdump matches in a file stamped packet i = i seconds, or null when libpcap rejects the expression. */
export function tcpdumpMatches(file: string, expr: string): number[] | null {
  const r = spawnSync('tcpdump', ['-r', file, '-tt', '-n', '--', expr], { encoding: 'utf8', maxBuffer: 1 << 26 })
  if (r.status !== 0) return null
  const out: number[] = []
  for (const line of r.stdout.split('\n')) {
    const m = /^(\d+)\.\d{6} /.exec(line)
    if (m) out.push(Number(m[1]))
  }
  return out
}

const matcher = join(dirname(fileURLToPath(import.meta.url)), 'libpcap-matches.py')

/** For each expression, the packet numbers libpcap matches in the file, or null when pcap_compile rejects it. */
export function libpcapMatches(file: string, exprs: readonly string[]): (number[] | null)[] {
  const r = spawnSync('python3', [matcher, file], { input: exprs.map((e) => `${e}\n`).join(''), encoding: 'utf8', maxBuffer: 1 << 28 })
  if (r.status !== 0) throw new Error(`libpcap-matches.py ${file}: ${r.stderr}`)
  const lines = r.stdout.trim().split('\n')
  if (lines.length !== exprs.length) throw new Error(`libpcap-matches.py ${file}: ${lines.length} answers for ${exprs.length} expressions`)
  return lines.map((l) => { const v = JSON.parse(l) as number[] | { error: string }; return Array.isArray(v) ? v : null })
}

/** Packet numbers netkit matches, or the error message when it rejects the expression. */
export async function netkitMatches(file: string, expr: string): Promise<number[] | string> {
  const reader = await openCaptureFile(file)
  try {
    let bpf: BatchFilter
    try {
      bpf = new BatchFilter(expr, reader.interfaces[0]?.linkType)
    } catch (err) {
      if (err instanceof FilterSyntaxError) return err.message
      throw err
    }
    const out: number[] = []
    for await (const batch of reader.batches()) {
      bpf.apply(batch)
      for (let i = 0; i < batch.count; i++) if (bpf.select[i]) out.push(batch.firstNumber + i)
    }
    return out
  } finally {
    await reader.close()
  }
}

/** The expressions of a file: one a line, `#` starts a comment line. */
export function readExpressions(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
}

/** libpcapMatches in a child process that runs while this one works. */
export function libpcapMatchesAsync(file: string, exprs: readonly string[]): Promise<(number[] | null)[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [matcher, file], { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`libpcap-matches.py ${file}: ${Buffer.concat(err).toString()}`))
      const lines = Buffer.concat(out).toString().trim().split('\n')
      if (lines.length !== exprs.length) return reject(new Error(`libpcap-matches.py ${file}: ${lines.length} answers for ${exprs.length} expressions`))
      resolve(lines.map((l) => { const v = JSON.parse(l) as number[] | { error: string }; return Array.isArray(v) ? v : null }))
    })
    child.stdin.end(exprs.map((e) => `${e}\n`).join(''))
  })
}

/** Compares netkit with libpcap for every expression on every file; returns the disagreements. */
export async function disagreements(files: readonly string[], exprs: readonly string[]): Promise<string[]> {
  const bad: string[] = []
  for (const file of files) {
    // libpcap answers in another process while netkit answers here.
    const pending = libpcapMatchesAsync(file, exprs)
    const mine: (number[] | string)[] = []
    for (const expr of exprs) mine.push(await netkitMatches(file, expr))
    const answers = await pending
    for (const [n, expr] of exprs.entries()) {
      const want = answers[n]
      const got = mine[n]
      const ok = want === null ? typeof got === 'string' : Array.isArray(got) && got.join(',') === want.join(',')
      if (!ok) bad.push(`${file.split('/').pop()} | ${expr} | libpcap=${want === null ? 'rejected' : `[${want.slice(0, 15)}]`} netkit=${typeof got === 'string' ? `rejected (${got})` : `[${got.slice(0, 15)}]`}`)
    }
  }
  return bad
}
