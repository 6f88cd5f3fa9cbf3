/**
 * HTTPS peers for tests and benchmarks: a self-signed certificate made with openssl for
 * `netkit.test` and 127.0.0.1, and nginx serving TLS on loopback with an access log that names
 * each request's connection ($connection), so a test counts the connections the server saw.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { have } from './cli.js'
import { waitForPort, type Running } from './servers.js'

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

/** nginx with TLS on 127.0.0.1:port serving `root`; `connections()` counts distinct connections logged. */
export async function startTlsNginx(dir: string, port: number, root: string, cert: { key: string; cert: string }): Promise<Running & { connections: () => number; requests: () => number }> {
  mkdirSync(join(dir, 'logs'), { recursive: true })
  const conf = join(dir, 'nginx.conf')
  const log = join(dir, 'logs', 'access.log')
  writeFileSync(conf, `
daemon off;
master_process off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'logs', 'error.log')} warn;
events { worker_connections 4096; }
http {
  log_format conn '$connection $status';
  access_log ${log} conn;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  types { text/html html; text/plain txt; }
  keepalive_requests 100000;
  ssl_session_cache shared:netkit:1m;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${cert.cert};
    ssl_certificate_key ${cert.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    root ${root};
  }
}
`)
  writeFileSync(log, '')
  const child = spawn('nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr!.on('data', (d) => { err += d })
  try {
    await waitForPort(port, 10_000)
  } catch (e) {
    child.kill('SIGKILL')
    throw new Error(`nginx did not start: ${err}`, { cause: e })
  }
  const lines = (): string[] => readFileSync(log, 'utf8').split('\n').filter(Boolean)
  return {
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGQUIT')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await done
      clearTimeout(timer)
    },
    connections: () => new Set(lines().map((l) => l.split(' ')[0])).size,
    requests: () => lines().length,
  }
}
