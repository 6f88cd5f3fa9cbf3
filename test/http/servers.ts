/**
 * Test servers on loopback: raw TCP servers that send exactly the bytes a test wants, node:http
 * servers that count connections, and nginx started with its own temporary prefix and config.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { join } from 'node:path'
import { have, tempDir } from '../helpers/cli.js'
import { freePort, waitForPort } from '../helpers/servers.js'

export { freePort }

/** A listening server and how to stop it. */
export interface TestServer {
  port: number
  url: string
  /** Connections accepted so far. */
  connections: number
  /** Requests seen so far (raw servers count request heads). */
  requests: number
  close(): Promise<void>
}

/**
 * A raw TCP server: `onRequest(socket, head, index, connIndex)` is called for each request head
 * it reads (bodies are whatever follows; handlers that expect bodies read them themselves).
 */
export async function rawServer(onRequest: (socket: net.Socket, head: string, index: number, conn: { index: number; requests: number }) => void): Promise<TestServer> {
  const sockets = new Set<net.Socket>()
  const state: TestServer = { port: 0, url: '', connections: 0, requests: 0, close: async () => {} }
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    const conn = { index: state.connections++, requests: 0 }
    let buf = ''
    socket.on('data', (d) => {
      buf += d.toString('latin1')
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) break
        const head = buf.slice(0, end + 4)
        buf = buf.slice(end + 4)
        const m = /content-length:\s*(\d+)/i.exec(head)
        if (m && !/expect:\s*100-continue/i.test(head)) buf = buf.slice(Number(m[1]))
        conn.requests++
        onRequest(socket, head, state.requests++, conn)
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  state.port = (server.address() as net.AddressInfo).port
  state.url = `http://127.0.0.1:${state.port}/`
  state.close = async () => {
    for (const s of sockets) s.destroy()
    server.close()
    await once(server, 'close')
  }
  return state
}

/** A node:http server answering `hello` and counting connections and requests. */
export async function nodeServer(): Promise<TestServer> {
  const state: TestServer = { port: 0, url: '', connections: 0, requests: 0, close: async () => {} }
  const server = http.createServer((_req, res) => {
    state.requests++
    res.end('hello')
  })
  server.keepAliveTimeout = 60_000
  server.on('connection', () => state.connections++)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  state.port = (server.address() as net.AddressInfo).port
  state.url = `http://127.0.0.1:${state.port}/`
  state.close = async () => {
    server.closeAllConnections()
    server.close()
    await once(server, 'close')
  }
  return state
}

/** The nginx binary, or null. */
export function nginxBinary(): string | null {
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) if (existsSync(p)) return p
  return have('nginx') ? 'nginx' : null
}

/** A running nginx: its URL, the access log (one `$connection $connection_requests` per line). */
export interface NginxServer {
  url: string
  port: number
  /** With the `tls` option: the same site over TLS (https://127.0.0.1:tlsPort/). */
  httpsUrl?: string
  tlsPort?: number
  pid: number
  /**
   * Connections accepted and requests served so far (stub_status, minus the status requests
   * themselves), and distinct connections that carried a logged request.
   */
  counts(): Promise<{ connections: number; requests: number; withRequests: number }>
  stop(): Promise<void>
}

/**
 * Starts nginx in the foreground on a free loopback port with its own prefix, config and logs
 * (master_process off: one process, whatever user runs the tests). `workers` > 0 runs a master
 * with that many workers instead (for benchmarks).
 */
export async function startNginx(options: { workers?: number; accessLog?: boolean; tls?: { cert: string; key: string } } = {}): Promise<NginxServer> {
  const bin = nginxBinary()
  if (bin === null) throw new Error('nginx not installed')
  const { dir, cleanup } = tempDir('netkit-nginx-')
  for (const d of ['logs', 'tmp']) mkdirSync(join(dir, d))
  const port = await freePort()
  const tlsPort = options.tls ? await freePort() : undefined
  const accessLog = options.accessLog !== false
  const workers = options.workers ?? 0
  const conf = `
${workers > 0 ? `worker_processes ${workers};\nmaster_process on;` : 'master_process off;'}
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 4096; }
http {
  log_format conns '$connection $connection_requests $status';
  access_log ${accessLog ? `${dir}/logs/access.log conns` : 'off'};
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  keepalive_timeout 60s;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "hello from nginx\\n"; }
    location = /nginx_status { stub_status; access_log off; }
  }${options.tls ? `
  ssl_session_cache shared:netkit:1m;
  server {
    listen 127.0.0.1:${tlsPort} ssl;
    ssl_certificate ${options.tls.cert};
    ssl_certificate_key ${options.tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { default_type text/plain; return 200 "hello from nginx\\n"; }
  }` : ''}
}
`
  writeFileSync(join(dir, 'nginx.conf'), conf)
  const child: ChildProcess = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs', 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d) => { stderr += d })
  try {
    await waitForPort(port)
    if (tlsPort !== undefined) await waitForPort(tlsPort)
  } catch {
    child.kill('SIGKILL')
    throw new Error(`nginx did not start: ${stderr || readFileSync(join(dir, 'logs', 'error.log'), 'utf8')}`)
  }
  const logFile = join(dir, 'logs', 'access.log')
  let statusCalls = 0
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    ...(tlsPort === undefined ? {} : { httpsUrl: `https://127.0.0.1:${tlsPort}/`, tlsPort }),
    pid: child.pid!,
    async counts() {
      const text = await new Promise<string>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/nginx_status', agent: false }, (res) => {
          let body = ''
          res.on('data', (d) => { body += d })
          res.on('end', () => resolve(body))
        }).on('error', reject)
      })
      // "server accepts handled requests\n 12 12 40": this status request is one of each.
      const m = /accepts handled requests\s+(\d+)\s+(\d+)\s+(\d+)/.exec(text)
      if (!m) throw new Error(`unexpected stub_status: ${text}`)
      statusCalls++
      const lines = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter((l) => l !== '') : []
      return { connections: Number(m[1]) - statusCalls, requests: Number(m[3]) - statusCalls, withRequests: new Set(lines.map((l) => l.split(' ')[0])).size }
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGQUIT')
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
        await once(child, 'exit')
        clearTimeout(timer)
      }
      cleanup()
    },
  }
}
