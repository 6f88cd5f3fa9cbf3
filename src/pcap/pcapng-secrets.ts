/**
 * Puts a Decryption Secrets Block into a pcapng file that is already written, right after its
 * section header and interface blocks, as `editcap --inject-secrets` does: tshark reads a file
 * in one pass, so secrets must come before the packets they decrypt.
 */
import { closeSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs'
import { FileFormatError, fileAccessError } from '../errors.js'
import { BlockType } from './pcapng-parser.js'
import { secretsBlock } from './pcapng-writer.js'

const CHUNK = 1 << 20

/** Rewrites `path` with a DSB of `type` holding `data` after its leading SHB and IDBs. */
export function injectSecrets(path: string, type: number, data: Buffer): void {
  const tmp = `${path}.${process.pid}.secrets`
  let inFd = -1
  let outFd = -1
  try {
    inFd = openSync(path, 'r')
    const head = Buffer.alloc(CHUNK)
    const n = readSync(inFd, head, 0, CHUNK, 0)
    if (n < 12 || head.readUInt32LE(0) !== BlockType.SHB) throw new FileFormatError(path, 0, 'not a pcapng file this writer made (little-endian SHB first)')
    // The leading SHB and IDBs: the secrets go after them, before the first packet.
    let at = 0
    while (at + 8 <= n) {
      const type = head.readUInt32LE(at)
      if (at > 0 && type !== BlockType.IDB) break
      const total = head.readUInt32LE(at + 4)
      if (total < 12 || at + total > n) break
      at += total
    }
    outFd = openSync(tmp, 'w', 0o644)
    writeSync(outFd, head, 0, at)
    writeSync(outFd, secretsBlock(type, data))
    writeSync(outFd, head, at, n - at)
    for (let pos = n; ;) {
      const r = readSync(inFd, head, 0, CHUNK, pos)
      if (r === 0) break
      writeSync(outFd, head, 0, r)
      pos += r
    }
    closeSync(outFd)
    outFd = -1
    renameSync(tmp, path)
  } catch (err) {
    if (outFd >= 0) closeSync(outFd)
    rmSync(tmp, { force: true })
    if (err instanceof FileFormatError) throw err
    throw fileAccessError(path, err, 'add the TLS secrets to it')
  } finally {
    if (inFd >= 0) closeSync(inFd)
  }
}
