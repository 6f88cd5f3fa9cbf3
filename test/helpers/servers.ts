/**
 * Real servers and capture on loopback for tests: nginx from Debian (own prefix, config and
 * port), node:http, and tcpdump writing what crosses lo. Everything started here is stopped
 * by the returned handles (tests call them in t.after).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { createServer as createNetServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const port = await tryPort(0)
  if (port === null) throw new Error('no free port on 127.0.0.1')
  return port
}

/** Listens on `port` of 127.0.0.1 (0: any) and closes again; the port it got, or null if taken. */
function tryPort(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const s = createNetServer()
    s.once('error', () => resolve(null))
    s.listen(port, '127.0.0.1', () => {
      const got = (s.address() as { port: number }).port
      s.close(() => resolve(got))
    })
  })
}

/**
 * A free port below the kernel's ephemeral range (ip_local_port_range starts at 32768 by
 * default), so a client's port on the same host is always the higher one. tshark tries the
 * lower port of a TCP segment first: a server on such a port, named with `-d`, is decoded as
 * that protocol whatever port the kernel gave the client.
 */
export async function freeLowPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await tryPort(20000 + Math.floor(Math.random() * 12000))
    if (port !== null) return port
  }
  throw new Error('no free port between 20000 and 32000')
}

/** Waits until something accepts connections on the port. */
export async function waitForPort(port: number, timeoutMs = 10_000, host = '127.0.0.1'): Promise<void> {
  const { connect } = await import('node:net')
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, host)
      c.once('connect', () => { c.destroy(); resolve(true) })
      c.once('error', () => resolve(false))
    })
    if (ok) return
    await sleep(50)
  }
  throw new Error(`nothing listens on ${host}:${port}`)
}

/** A running process with a stop function. */
export interface Running {
  child: ChildProcess
  stop: () => Promise<void>
}

function stopper(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await done
    clearTimeout(timer)
  }
}

/**
 * Starts nginx on host:port (127.0.0.1 unless given) serving `root` (files written by the
 * caller), with gzip for text, keep-alive, and `extraLocations` added to its server block.
 */
export async function startNginx(dir: string, port: number, root: string, extraLocations = '', host = '127.0.0.1'): Promise<Running> {
  mkdirSync(join(dir, 'logs'), { recursive: true })
  const conf = join(dir, 'nginx.conf')
  writeFileSync(conf, `
daemon off;
master_process off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'logs', 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  types { text/html html; text/plain txt; application/octet-stream bin; }
  keepalive_requests 100000;
  server {
    listen ${host}:${port};
    root ${root};
    gzip on; gzip_types text/plain; gzip_min_length 100;
    if_modified_since before;
    ${extraLocations}
  }
}
`)
  const child = spawn('nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr!.on('data', (d) => { err += d })
  try {
    await waitForPort(port, 10_000, host)
  } catch (e) {
    child.kill('SIGKILL')
    throw new Error(`nginx did not start: ${err}`, { cause: e })
  }
  return { child, stop: stopper(child, 'SIGQUIT') }
}

/** The counts tcpdump (and netkit capture) print when they end. */
export interface TcpdumpCounts { captured: number; received: number; dropped: number }

/** The three counts of tcpdump-style end lines. */
export function endCounts(stderr: string): TcpdumpCounts {
  const num = (what: string): number => Number(new RegExp(`(\\d+) packets? ${what}`).exec(stderr)?.[1] ?? NaN)
  return { captured: num('captured'), received: num('received by filter'), dropped: num('dropped by kernel') }
}

/**
 * Starts `tcpdump -i lo -w file FILTER` and waits until it listens. `stop()` waits until the file
 * has stopped growing (-U writes each packet as it is read, so a quiet file means tcpdump has
 * caught up), ends it with SIGINT and returns its counts. Packets still in its ring at SIGINT are
 * never written: a starved tcpdump shows that as captured < received.
 */
export async function startTcpdump(file: string, filter: string, iface = 'lo'): Promise<{ child: ChildProcess; stop: () => Promise<TcpdumpCounts> }> {
  const child = spawn('tcpdump', ['-i', iface, '-n', '-U', '--immediate-mode', '-s', '0', '-B', '32768', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000)
    child.stderr!.on('data', (d) => {
      err += d
      if (err.includes('listening on')) { clearTimeout(timer); resolve() }
    })
    child.once('exit', () => { clearTimeout(timer); reject(new Error(`tcpdump exited: ${err}`)) })
  })
  // --immediate-mode: otherwise the last packets wait in a TPACKET_V3 block that SIGINT never reads.
  return {
    child,
    stop: async () => {
      await quiet(file, 500, 15_000)
      await stopper(child, 'SIGINT')()
      return endCounts(err)
    },
  }
}

/** Resolves once `file`'s size has not changed for `ms` (or after `maxMs` in all). */
export async function quiet(file: string, ms: number, maxMs: number): Promise<void> {
  const size = (): number => { try { return statSync(file).size } catch { return -1 } }
  const end = Date.now() + maxMs
  let last = size()
  let since = Date.now()
  while (Date.now() < end && Date.now() - since < ms) {
    await sleep(50)
    const now = size()
    if (now !== last) { last = now; since = Date.now() }
  }
}

/**
 * Records `traffic()` with tcpdump on lo into `file` and checks by tcpdump's own counts that the
 * file holds every packet the kernel passed it; on a loaded machine tcpdump can fall behind and
 * lose the tail, so an incomplete recording is made again (up to `attempts` times in all).
 */
export async function recordWithTcpdump(file: string, filter: string, traffic: () => Promise<void>, attempts = 3): Promise<TcpdumpCounts> {
  for (let attempt = 1; ; attempt++) {
    const tcpdump = await startTcpdump(file, filter, 'lo')
    await traffic()
    const counts = await tcpdump.stop()
    // On lo the kernel passes each packet to the socket twice, going out and coming in, and
    // libpcap drops the outgoing copy: "received by filter" counts every packet twice.
    const passed = counts.received / 2
    if (counts.captured === passed && counts.dropped === 0) return counts
    const what = `tcpdump wrote ${counts.captured} of ${passed} packets (${counts.dropped} dropped by the kernel)`
    if (attempt === attempts) throw new Error(`the reference capture stayed incomplete after ${attempts} attempts: ${what}`)
    console.error(`# ${what}; recording again`)
  }
}

/** Whether this process may capture and start privileged helpers (root). */
export function isRoot(): boolean {
  return process.getuid?.() === 0
}
