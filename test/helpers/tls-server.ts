/**
 * For HTTPS peers in tests and benchmarks: a self-signed certificate made with openssl for
 * `netkit.test` and 127.0.0.1 (test/http/servers.ts's nginx serves TLS with it).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { have } from './cli.js'

/** Why the HTTPS tests cannot run here, or false. */
export function tlsSkip(): string | false {
  for (const tool of ['openssl', 'nginx']) if (!have(tool)) return `needs ${tool}`
  return false
}

/** Makes key.pem and cert.pem (CN and SAN netkit.test, SAN IP 127.0.0.1) in `dir`. */
export function makeCertificate(dir: string): { key: string; cert: string } {
  mkdirSync(dir, { recursive: true })
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=netkit.test', '-addext', 'subjectAltName=DNS:netkit.test,IP:127.0.0.1'], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`)
  return { key, cert }
}
