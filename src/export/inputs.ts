/**
 * The input files of `netkit export`: each -r value is a file, a folder (its capture files,
 * recursively: *.pcap, *.pcapng, *.cap, *.pcap.gz is not read) or a glob whose last part has
 * `*`, `?` or `[...]` (for when the shell did not expand it). Sorted, each once.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { FileAccessError } from '../errors.js'

const CAPTURE = /\.(pcap|pcapng|cap|dmp)$/i

function globRegex(pattern: string): RegExp {
  let re = ''
  for (const ch of pattern) {
    if (ch === '*') re += '[^/]*'
    else if (ch === '?') re += '[^/]'
    else if (ch === '[' || ch === ']') re += ch
    else re += ch.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) walk(p, out)
    else if (e.isFile() && CAPTURE.test(e.name)) out.push(p)
  }
}

/** The capture files the -r values name; a value that names nothing is an error. */
export function expandInputs(values: string[]): string[] {
  const out: string[] = []
  for (const v of values) {
    if (/[*?[]/.test(basename(v)) && !existsSync(v)) {
      const dir = dirname(v)
      const re = globRegex(basename(v))
      const found = existsSync(dir) ? readdirSync(dir).filter((n) => re.test(n)).map((n) => join(dir, n)).filter((p) => statSync(p).isFile()) : []
      if (found.length === 0) throw new FileAccessError(v, 'no file matches')
      out.push(...found)
      continue
    }
    let st
    try {
      st = statSync(v)
    } catch (err) {
      throw new FileAccessError(v, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (err as Error).message, { cause: err })
    }
    if (st.isDirectory()) {
      const before = out.length
      walk(v, out)
      if (out.length === before) throw new FileAccessError(v, 'the folder holds no capture file (*.pcap, *.pcapng, *.cap)')
    } else out.push(v)
  }
  return [...new Set(out.map((p) => resolve(p)))].sort()
}
