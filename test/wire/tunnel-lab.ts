/**
 * A tunnel lab for the wire tests: two network namespaces joined by a veth pair (IPv4 and IPv6
 * underlay), every kind of tunnel this kernel can make between them (`ip link add ... type
 * vxlan|geneve|gretap|gre|erspan|ip6erspan|ip6gretap`), the kinds it cannot made by Open
 * vSwitch's userspace datapath instead (ovs-switch.ts), and real traffic through them (ping, a TCP
 * transfer) and across the underlay (fragments from `ping -s 4000`, IPv4 and IPv6), captured on
 * the underlay by tcpdump. Everything is made by the test and removed by cleanup(), also when the
 * test fails.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { have } from '../helpers/cli.js'
import { OvsSwitch, ovsSkip } from './ovs-switch.js'

/** One kind of tunnel: how `ip link add` makes it on side A and side B (i = its index). */
export interface TunnelKind {
  name: string
  /** The `type ...` words for each side; a, b are the underlay addresses of that family. */
  args(a: string, b: string, i: number): string[]
  ipv6Underlay?: boolean
  /** Layer 3 (gre): no inner Ethernet. */
  l3?: boolean
  /** The same tunnel from Open vSwitch: its Interface type and options (`key=value`). */
  ovs?: { type: string; options(i: number): string[] }
}

/** The tunnels the lab tries, in order (each gets inner subnet 10.200.<index>.0/24). */
export const TUNNEL_KINDS: TunnelKind[] = [
  { name: 'vxlan', args: (a, b, i) => ['vxlan', 'id', String(40 + i), 'local', a, 'remote', b, 'dstport', '4789'] },
  { name: 'vxlan6', ipv6Underlay: true, args: (a, b, i) => ['vxlan', 'id', String(40 + i), 'local', a, 'remote', b, 'dstport', '4789'] },
  { name: 'geneve', args: (_a, b, i) => ['geneve', 'id', String(40 + i), 'remote', b],
    ovs: { type: 'geneve', options: (i) => [`key=${40 + i}`] } },
  { name: 'gretap', args: (a, b, i) => ['gretap', 'local', a, 'remote', b, 'key', String(i)],
    ovs: { type: 'gre', options: (i) => [`key=${i}`] } },
  { name: 'gre', l3: true, args: (a, b) => ['gre', 'local', a, 'remote', b],
    ovs: { type: 'gre', options: () => ['packet_type=legacy_l3'] } },
  { name: 'erspan2', args: (a, b, i) => ['erspan', 'seq', 'key', String(i), 'local', a, 'remote', b, 'erspan_ver', '1', 'erspan', '123'],
    ovs: { type: 'erspan', options: (i) => [`key=${i}`, 'erspan_ver=1', 'erspan_idx=123'] } },
  { name: 'erspan3', args: (a, b, i) => ['erspan', 'seq', 'key', String(i), 'local', a, 'remote', b, 'erspan_ver', '2', 'erspan_dir', 'egress', 'erspan_hwid', '7'],
    ovs: { type: 'erspan', options: (i) => [`key=${i}`, 'erspan_ver=2', 'erspan_dir=1', 'erspan_hwid=7'] } },
  { name: 'ip6erspan', ipv6Underlay: true, args: (a, b, i) => ['ip6erspan', 'seq', 'key', String(i), 'local', a, 'remote', b, 'erspan_ver', '1', 'erspan', '5'],
    ovs: { type: 'ip6erspan', options: (i) => [`key=${i}`, 'erspan_ver=1', 'erspan_idx=5'] } },
  { name: 'ip6gretap', ipv6Underlay: true, args: (a, b, i) => ['ip6gretap', 'local', a, 'remote', b],
    ovs: { type: 'ip6gre', options: () => [] } },
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
  /** Kinds made by Open vSwitch because this kernel could not make them. */
  byOvs: string[]
  /** Kinds neither this kernel nor Open vSwitch could make, with the reason. */
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

/** The underlay addresses of sides A and B. */
const UNDER = { a4: '10.199.0.1', b4: '10.199.0.2', a6: 'fd99:199::1', b6: 'fd99:199::2' }

/** One side of the lab when Open vSwitch makes tunnels: its switch and its host number. */
interface OvsSide { sw: OvsSwitch; host: 1 | 2; v4: string; v6: string; peer4: string; peer6: string }

/**
 * Puts side `s`'s underlay on an Open vSwitch userspace bridge `nkwu`: the veth end becomes its
 * port (read and written with AF_PACKET) and the bridge's internal port carries the underlay
 * addresses, because OVS's userspace tunnels route and resolve neighbours only through its own
 * bridges (Documentation/howto/userspace-tunneling.rst). The kernel's tunnels use the same
 * addresses, so their packets cross the same bridge onto the same veth.
 */
function ovsUnderlay(s: OvsSide, veth: string): void {
  // The veth end keeps no address of its own and answers no ARP for nkwu's (arp_ignore=1 replies
  // only for addresses on the interface asked, see the kernel's ip-sysctl.rst): the underlay has
  // one neighbour per side, the one OVS sends tunnels from.
  run('ip', ['netns', 'exec', s.sw.ns, 'sysctl', '-qw', `net.ipv4.conf.${veth}.arp_ignore=1`, `net.ipv6.conf.${veth}.disable_ipv6=1`])
  s.sw.addBridge('nkwu', '--', 'add-port', 'nkwu', veth)
  run('ip', ['-n', s.sw.ns, 'addr', 'add', `${s.v4}/24`, 'dev', 'nkwu'])
  run('ip', ['-n', s.sw.ns, 'addr', 'add', `${s.v6}/64`, 'dev', 'nkwu', 'nodad'])
  run('ip', ['-n', s.sw.ns, 'link', 'set', 'nkwu', 'up'])
}

/**
 * Makes tunnel `kind` (index i) on both sides with Open vSwitch: a userspace bridge nkt<i> whose
 * internal port has the inner address and whose other port is the tunnel. Returns the remover,
 * which removes side B's first.
 */
function ovsTunnel(sides: OvsSide[], kind: TunnelKind, i: number): () => void {
  const dev = `nkt${i}`
  for (const s of sides) {
    const remote = kind.ipv6Underlay ? s.peer6 : s.peer4
    s.sw.addBridge(dev, '--', 'set', 'interface', dev, 'mtu_request=1400', '--', 'add-port', dev, `${dev}t`, '--', 'set', 'interface', `${dev}t`,
      `type=${kind.ovs!.type}`, `options:remote_ip=${remote}`, 'ofport_request=1', ...kind.ovs!.options(i).map((o) => `options:${o}`))
    run('ip', ['-n', s.sw.ns, 'addr', 'add', `10.200.${i}.${s.host}/24`, 'dev', dev])
    run('ip', ['-n', s.sw.ns, 'link', 'set', dev, 'up'])
    if (kind.l3) {
      // A legacy_l3 port sends IP packets without their Ethernet header and hands received ones
      // to the bridge with a header OVS makes up (ovs-vswitchd.conf.db(5), packet_type): the
      // kernel's side needs a neighbour entry to send at all, and the received packets the
      // internal port's own address to be taken in. NORMAL switching does neither, so two flows.
      const mac = run('ip', ['netns', 'exec', s.sw.ns, 'cat', `/sys/class/net/${dev}/address`]).trim()
      run('ip', ['-n', s.sw.ns, 'neigh', 'replace', `10.200.${i}.${3 - s.host}`, 'lladdr', '02:00:00:00:00:01', 'dev', dev, 'nud', 'permanent'])
      s.sw.ofctl('del-flows', dev)
      s.sw.ofctl('add-flow', dev, 'in_port=LOCAL,ip,actions=output:1')
      s.sw.ofctl('add-flow', dev, `in_port=1,ip,actions=mod_dl_dst:${mac},output:LOCAL`)
    }
  }
  return () => { for (const s of [...sides].reverse()) s.sw.vsctl('--if-exists', 'del-br', dev) }
}

/**
 * Makes the namespaces, tunnels and traffic, and captures it on the underlay into `file`.
 * Returns what was made; the namespaces and any Open vSwitch daemons are gone when it returns
 * (or throws).
 */
export async function captureTunnels(file: string, kinds: TunnelKind[] = TUNNEL_KINDS): Promise<LabCapture> {
  const id = `${process.pid % 100000}`
  const nsA = `nkwA${id}`
  const nsB = `nkwB${id}`
  const made: string[] = []
  const byOvs: string[] = []
  const missing: Record<string, string> = {}
  let ovsDir: string | undefined
  let switches: OvsSwitch[] = []
  const cleanup = async (): Promise<void> => {
    for (const sw of switches) await sw.stop()
    spawnSync('ip', ['netns', 'del', nsA])
    spawnSync('ip', ['netns', 'del', nsB])
    if (ovsDir) rmSync(ovsDir, { recursive: true, force: true })
  }
  await cleanup()
  try {
    for (const n of [nsA, nsB]) {
      run('ip', ['netns', 'add', n])
      // No router solicitations or DAD: the IPv6 frames on the wire are the test's own.
      run('ip', ['netns', 'exec', n, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0',
        'net.ipv6.conf.default.router_solicitations=0', 'net.ipv6.conf.all.router_solicitations=0'])
      run('ip', ['-n', n, 'link', 'set', 'lo', 'up'])
    }
    run('ip', ['-n', nsA, 'link', 'add', 'nkw0', 'type', 'veth', 'peer', 'name', 'nkw1', 'netns', nsB])
    run('ip', ['-n', nsA, 'link', 'set', 'nkw0', 'up'])
    run('ip', ['-n', nsB, 'link', 'set', 'nkw1', 'up'])
    // Which kinds the kernel makes: it answers when side A's device is added.
    const kernel: number[] = []
    const ovsKinds: number[] = []
    const noOvs = ovsSkip()
    kinds.forEach((kind, i) => {
      const [a, b] = kind.ipv6Underlay ? [UNDER.a6, UNDER.b6] : [UNDER.a4, UNDER.b4]
      const r = spawnSync('ip', ['-n', nsA, 'link', 'add', `nkt${i}`, 'type', ...kind.args(a, b, i)], { encoding: 'utf8' })
      if (r.status === 0) kernel.push(i)
      else if (kind.ovs && !noOvs) ovsKinds.push(i)
      else missing[kind.name] = `${r.stderr.trim()}; ${kind.ovs ? noOvs : 'Open vSwitch has no such tunnel'}`
    })
    let sides: OvsSide[] = []
    if (ovsKinds.length > 0) {
      ovsDir = mkdtempSync(join(tmpdir(), 'netkit-ovs-'))
      switches = [new OvsSwitch(nsA, ovsDir), new OvsSwitch(nsB, ovsDir)]
      for (const sw of switches) sw.start()
      sides = [
        { sw: switches[0], host: 1, v4: UNDER.a4, v6: UNDER.a6, peer4: UNDER.b4, peer6: UNDER.b6 },
        { sw: switches[1], host: 2, v4: UNDER.b4, v6: UNDER.b6, peer4: UNDER.a4, peer6: UNDER.a6 },
      ]
      ovsUnderlay(sides[0], 'nkw0')
      ovsUnderlay(sides[1], 'nkw1')
      // OVS learns the underlay neighbours by snooping the kernel's ARP and ND on nkwu; without
      // them it would drop a tunnel's first packets while it asks.
      run('ip', ['netns', 'exec', nsA, 'ping', '-c', '1', '-W', '2', UNDER.b4])
      run('ip', ['netns', 'exec', nsA, 'ping', '-6', '-c', '1', '-W', '2', UNDER.b6])
    } else {
      run('ip', ['-n', nsA, 'addr', 'add', `${UNDER.a4}/24`, 'dev', 'nkw0'])
      run('ip', ['-n', nsB, 'addr', 'add', `${UNDER.b4}/24`, 'dev', 'nkw1'])
      run('ip', ['-n', nsA, 'addr', 'add', `${UNDER.a6}/64`, 'dev', 'nkw0', 'nodad'])
      run('ip', ['-n', nsB, 'addr', 'add', `${UNDER.b6}/64`, 'dev', 'nkw1', 'nodad'])
    }
    const inner: Array<{ kind: string; b: string }> = []
    for (const i of kernel) {
      const kind = kinds[i]
      const [a, b] = kind.ipv6Underlay ? [UNDER.a6, UNDER.b6] : [UNDER.a4, UNDER.b4]
      const dev = `nkt${i}`
      run('ip', ['-n', nsB, 'link', 'add', dev, 'type', ...kind.args(b, a, i)])
      for (const [n, host] of [[nsA, 1], [nsB, 2]] as const) {
        run('ip', ['-n', n, 'addr', 'add', `10.200.${i}.${host}/24`, 'dev', dev])
        // Room for the encapsulation on the 1500-byte underlay, as a deployment leaves it: the
        // tunnelled TCP segments then cross whole (fragments come from the 4000-byte pings).
        run('ip', ['-n', n, 'link', 'set', dev, 'mtu', '1400', 'up'])
      }
      made.push(kind.name)
      inner.push({ kind: kind.name, b: `10.200.${i}.2` })
    }
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
      // Open vSwitch's tunnels one at a time, after the kernel's: OVS's tnl-ports table maps
      // (local address, IP protocol, UDP port) to one tunnel port, so with gre and erspan ports at
      // once the erspan packets are decapsulated as GRE and dropped ("receive tunnel port not
      // found" in its log), and a kernel tunnel of the same protocol would lose its packets the
      // same way. Each carries pings and a short transfer.
      for (const i of ovsKinds) {
        const remove = ovsTunnel(sides, kinds[i], i)
        try {
          const b = `10.200.${i}.2`
          const ping = spawnSync('ip', ['netns', 'exec', nsA, 'ping', '-c', '2', '-i', '0.2', '-W', '2', b], { encoding: 'utf8' })
          if (ping.status !== 0) throw new Error(`no ping answer over Open vSwitch's ${kinds[i].name} tunnel:\n${ping.stdout}\n${switches[0].logTail()}`)
          await tcpTransfer(nsA, nsB, b, 5001, 4000)
          // One more ping once B's end is gone: B's kernel answers the tunnel packet with an ICMP
          // error (protocol 47 or UDP port unreachable) that quotes it.
          sides[1].sw.vsctl('del-br', `nkt${i}`)
          spawnSync('ip', ['netns', 'exec', nsA, 'ping', '-c', '1', '-W', '0.2', b])
        } finally {
          remove()
        }
        made.push(kinds[i].name)
        byOvs.push(kinds[i].name)
      }
      // Fragments: 4000-byte pings over the 1500-byte underlay, IPv4 and IPv6, and inside a tunnel.
      spawnSync('ip', ['netns', 'exec', nsA, 'ping', '-c', '2', '-i', '0.2', '-W', '2', '-s', '4000', UNDER.b4])
      spawnSync('ip', ['netns', 'exec', nsA, 'ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', '-s', '4000', UNDER.b6])
      if (inner.length > 0) spawnSync('ip', ['netns', 'exec', nsA, 'ping', '-c', '1', '-W', '2', '-s', '4000', inner[0].b])
      // A UDP datagram to a port nothing listens on: B answers with an ICMP port unreachable.
      spawnSync('ip', ['netns', 'exec', nsA, 'bash', '-c', `echo probe > /dev/udp/${UNDER.b4}/9`])
      await quiet(file, 300)
    } finally {
      tcpdump.kill('SIGINT')
      await closed
    }
    return { file, made, byOvs, missing }
  } finally {
    await cleanup()
  }
}
