/**
 * Writes an HTML report file whole: to a temporary name beside it, then renamed, so a reader never
 * sees half a report and a failed run leaves no file behind.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { fileAccessError } from '../errors.js'
import { reportHtml } from './html.js'

/** Writes report `data` under `title` to `path`; returns the bytes written. */
export function writeReport(path: string, title: string, data: unknown): number {
  const html = reportHtml(title, data)
  const tmp = `${path}.${process.pid}.tmp`
  try {
    writeFileSync(tmp, html)
    renameSync(tmp, path)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw fileAccessError(path, err, 'write the report')
  }
  return Buffer.byteLength(html)
}
