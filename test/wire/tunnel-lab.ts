/**
 * A tunnel lab for the wire tests: two network namespaces joined by a veth pair (IPv4 and IPv6
 * underlay), every kind of tunnel this kernel can make between them (`ip link add ... type
 * vxlan|geneve|gretap|gre|erspan|ip6erspan|ip6gretap`), and real traffic through them (ping, a TCP
 * transfer) and across the underlay (fragments from `ping -s 4000`, IPv4 and IPv6), captured on
 * the underlay by tcpdump. Everything is made by the test and removed by cleanup(), also when the
 * test fails.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { have } from '../helpers/cli.js'

/** One kind of tunnel: how `ip link add` makes it on side A and side B (i = its index). */
export interface TunnelKind {
  name: string
  /** The `type ...` words for each side; a, b are the underlay addresses of that family. */
  args(a: string, b: string, i: number): string[]
  ipv6Underlay?: boolean
  /** Layer 3 (gre): no inner Ethernet. */
  l3?: boolean
}

/** The tunnels the lab tries, in order (each gets inner subnet 10.200.<index>.0/24). */
export const TUNNEL_KINDS: TunnelKind[] = [
  { name: 'vxlan', args: (a, b, i) => ['vxlan', 'id', String(40 + i), 'local', a, 'remote', b, 'dstport', '4789'] },
  { name: 'vxlan6', ipv6Underlay: true, args: (a, b, i) => ['vxlan', 'id', String(40 + i), 'local', a, 'remote', b, 'dstport', '4789'] },
  { name: 'geneve', args: (_a, b, i) => ['geneve', 'id', String(40 + i), 'remote', b] },
  { name: 'gretap', args: (a, b, i) => ['gretap', 'local', a, 'remote', b, 'key', String(i)] },
  { name: 'gre', l3: true, args: (a, b) => ['gre', 'local', a, 'remote', b] },
  { name: 'erspan2', args: (a, b, i) => ['erspan', 'seq', 'key', String(i), 'local', a, 'remote', b, 'erspan_ver', '1', 'erspan', '123'] },
  { name: 'erspan3', args: (a, b, i) => ['erspan', 'seq', 'key', String(i), 'local', a, 'remote', b, 'erspan_ver', '2', 'erspan_dir', 'egress', 'erspan_hwid', '7'] },
  { name: 'ip6erspan', ipv6Underlay: true, args: (a, b, i) => ['ip6erspan', 'seq', 'key', String(i), 'local', a, 'remote', b, 'erspan_ver', '1', 'erspan', '5'] },
  { name: 'ip6gretap', ipv6Underlay: true, args: (a, b, i) => ['ip6gretap', 'local', a, 'remote', b] },
]

/** Why the lab cannot run here, or false. */
export function labSkip(): string | false {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces'
  for (const tool of ['ip', 'tcpdump', 'tshark', 'ping']) if (!have(tool)) return `needs ${tool} (.ci/run installs it)`
  const probe = spawnSync('ip', ['netns', 'add', `nkwprobe${process.pid}`])
  if (probe.status !== 0) return `cannot create network namespaces: ${probe.stderr.toString().trim()}`
  spawnSync('ip', ['netns', 'del', `nkwprobe${process.pid}`])
  return false
}

/** What the lab captured. */
export interface LabCapture {
  file: string
  /** Tunnel kinds made and used. */
  made: string[]
  /** Kinds this kernel could not make, with its answer. */
  missing: Record<string, string>
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

/** Waits until `file` has not grown for `ms` (tcpdump -U has written all it read). */
async function quiet(file: string, ms: number): Promise<void> {
  let last = -1
  for (let n = 0; n < 100; n++) {
    const size = existsSync(file) ? statSync(file).size : 0
    if (size === last) return
    last = size
    await new Promise((r) => setTimeout(r, ms))
  }
}

/** A TCP transfer of `bytes` from A to B's `addr`:`port` (node's net module on both sides). */
async function tcpTransfer(nsA: string, nsB: string, addr: string, port: number, bytes: number): Promise<void> {
  const server = spawn('ip', ['netns', 'exec', nsB, process.execPath, '-e',
    `const s=require('net').createServer(c=>{let n=0;c.on('data',d=>{n+=d.length});c.on('end',()=>{c.end(String(n));s.close()})});s.listen(${port},'${addr}',()=>console.log('up'))`],
  { stdio: ['ignore', 'pipe', 'ignore'] })
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout!.on('data', (d) => { if (String(d).includes('up')) resolve() })
      server.once('close', () => reject(new Error('the TCP server in the namespace exited')))
    })
    run('ip', ['netns', 'exec', nsA, process.execPath, '-e',
      `const c=require('net').connect(${port},'${addr}',()=>{c.end(Buffer.alloc(${bytes},97))});c.setTimeout(8000,()=>process.exit(1));c.on('data',()=>{});c.on('close',()=>process.exit(0))`])
  } finally {
    server.kill('SIGKILL')
  }
}

/**
 * Makes the namespaces, tunnels and traffic, and captures it on the underlay into `file`.
 * Returns what was made; the namespaces are gone when it returns (or throws).
 */
export async function captureTunnels(file: string, kinds: TunnelKind[] = TUNNEL_KINDS): Promise<LabCapture> {
  const id = `${process.pid % 100000}`
  const nsA = `nkwA${id}`
  const nsB = `nkwB${id}`
  const made: string[] = []
  const missing: Record<string, string> = {}
  const cleanup = (): void => {
    spawnSync('ip', ['netns', 'del', nsA])
    spawnSync('ip', ['netns', 'del', nsB])
  }
  cleanup()
  try {
    for (const n of [nsA, nsB]) {
      run('ip', ['netns', 'add', n])
      // No router solicitations or DAD: the IPv6 frames on the wire are the test's own.
      run('ip', ['netns', 'exec', n, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0',
        'net.ipv6.conf.default.router_solicitations=0', 'net.ipv6.conf.all.router_solicitations=0'])
      run('ip', ['-n', n, 'link', 'set', 'lo', 'up'])
    }
    run('ip', ['-n', nsA, 'link', 'add', 'nkw0', 'type', 'veth', 'peer', 'name', 'nkw1', 'netns', nsB])
    const under = { a4: '10.199.0.1', b4: '10.199.0.2', a6: 'fd99:199::1', b6: 'fd99:199::2' }
    run('ip', ['-n', nsA, 'addr', 'add', `${under.a4}/24`, 'dev', 'nkw0'])
    run('ip', ['-n', nsB, 'addr', 'add', `${under.b4}/24`, 'dev', 'nkw1'])
    run('ip', ['-n', nsA, 'addr', 'add', `${under.a6}/64`, 'dev', 'nkw0', 'nodad'])
    run('ip', ['-n', nsB, 'addr', 'add', `${under.b6}/64`, 'dev', 'nkw1', 'nodad'])
    run('ip', ['-n', nsA, 'link', 'set', 'nkw0', 'up'])
    run('ip', ['-n', nsB, 'link', 'set', 'nkw1', 'up'])
    const inner: Array<{ kind: string; b: string }> = []
    kinds.forEach((kind, i) => {
      const [a, b] = kind.ipv6Underlay ? [under.a6, under.b6] : [under.a4, under.b4]
      const dev = `nkt${i}`
      const r = spawnSync('ip', ['-n', nsA, 'link', 'add', dev, 'type', ...kind.args(a, b, i)], { encoding: 'utf8' })
      if (r.status !== 0) {
        missing[kind.name] = r.stderr.trim()
        return
      }
      run('ip', ['-n', nsB, 'link', 'add', dev, 'type', ...kind.args(b, a, i)])
      for (const [n, host] of [[nsA, 1], [nsB, 2]] as const) {
        run('ip', ['-n', n, 'addr', 'add', `10.200.${i}.${host}/24`, 'dev', dev])
        // Room for the encapsulation on the 1500-byte underlay, as a deployment leaves it: the
        // tunnelled TCP segments then cross whole (fragments come from the 4000-byte pings).
        run('ip', ['-n', n, 'link', 'set', dev, 'mtu', '1400', 'up'])
      }
      made.push(kind.name)
      inner.push({ kind: kind.name, b: `10.200.${i}.2` })
    })
    const tcpdump = spawn('ip', ['netns', 'exec', nsA, 'tcpdump', '-i', 'nkw0', '-n', '-Z', 'root', '-U', '--immediate-mode', '-w', file],
      { stdio: ['ignore', 'ignore', 'pipe'] })
    const closed = new Promise<void>((resolve) => tcpdump.once('close', () => resolve()))
    let err = ''
    await new Promise<void>((resolve, reject) => {
      tcpdump.stderr!.on('data', (d) => { err += d; if (err.includes('listening')) resolve() })
      tcpdump.once('close', () => reject(new Error(`tcpdump exited: ${err}`)))
    })
    try {
      for (const t of inner) spawnSync('ip', ['netns', 'exec', nsA, 'ping', '-c', '2', '-i', '0.2', '-W', '2', t.b])
      // A TCP transfer through the first tunnel (several segments each way, and the handshake).
      if (inner.length > 0) await tcpTransfer(nsA, nsB, inner[0].b, 5001, 20_000)
      // Fragments: 4000-byte pings over the 1500-byte underlay, IPv4 and IPv6, and inside a tunnel.
      spawnSync('ip', ['netns', 'exec', nsA, 'ping', '-c', '2', '-i', '0.2', '-W', '2', '-s', '4000', under.b4])
      spawnSync('ip', ['netns', 'exec', nsA, 'ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', '-s', '4000', under.b6])
      if (inner.length > 0) spawnSync('ip', ['netns', 'exec', nsA, 'ping', '-c', '1', '-W', '2', '-s', '4000', inner[0].b])
      await quiet(file, 300)
    } finally {
      tcpdump.kill('SIGINT')
      await closed
    }
    return { file, made, missing }
  } finally {
    cleanup()
  }
}
