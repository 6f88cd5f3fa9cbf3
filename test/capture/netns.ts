/**
 * Network namespaces with a veth pair for capture tests: the capture side and a peer that sends.
 * Everything here is made by the test and removed by cleanup(), also when the test fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { have, root } from '../helpers/cli.js'
import { endCounts, quiet, type TcpdumpCounts } from '../helpers/servers.js'

export { endCounts }

/** Why the capture tests cannot run here, or false. */
export function captureSkip(): string | false {
  if (process.platform !== 'linux') return `live capture needs Linux (this is ${process.platform})`
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces and capture'
  if (!existsSync(join(root, 'native', 'build', 'Release', 'netkit_capture.node'))) return 'the capture addon is not built (node scripts/build-native.js)'
  for (const tool of ['ip', 'python3', 'tshark']) if (!have(tool)) return `needs ${tool}`
  const probe = spawnSync('ip', ['netns', 'add', `nkprobe${process.pid}`])
  if (probe.status !== 0) return `cannot create network namespaces: ${probe.stderr.toString().trim()}`
  spawnSync('ip', ['netns', 'del', `nkprobe${process.pid}`])
  return false
}

let serial = 0

/** Two namespaces joined by a veth pair, with IPv4 addresses and no IPv6 chatter. */
export interface VethPair {
  /** Namespace and interface that captures, and its address. */
  ns: string
  iface: string
  addr: string
  /** The peer namespace, interface and address that send. */
  peerNs: string
  peerIface: string
  peerAddr: string
  /** Runs a command in a namespace to completion; throws on failure. */
  exec(ns: string, cmd: string, args: string[]): string
  /** Spawns a command in a namespace. */
  spawn(ns: string, cmd: string, args: string[]): ChildProcess
  /** Sends raw frames from the peer (fixtures/send-frames.py). */
  send(count: number, size: number, extra?: string[]): void
  /** The interface's promiscuity count (`ip -d link`). */
  promiscuity(): number
  cleanup(): void
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

/** Creates namespaces nkcA<pid>x / nkcB<pid>x and the veth pair between them. */
export function createVethPair(): VethPair {
  const id = `${process.pid % 100000}x${serial++}`
  const ns = `nkcA${id}`
  const peerNs = `nkcB${id}`
  const iface = 'nkc0'
  const peerIface = 'nkc1'
  const octet = 1 + (serial % 250)
  const addr = `10.213.${octet}.1`
  const peerAddr = `10.213.${octet}.2`
  const cleanup = (): void => {
    spawnSync('ip', ['netns', 'del', ns])
    spawnSync('ip', ['netns', 'del', peerNs])
  }
  try {
    for (const n of [ns, peerNs]) {
      run('ip', ['netns', 'add', n])
      // No router solicitations or MLD reports: only the test's own frames cross the pair.
      run('ip', ['netns', 'exec', n, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
      run('ip', ['-n', n, 'link', 'set', 'lo', 'up'])
    }
    run('ip', ['-n', ns, 'link', 'add', iface, 'type', 'veth', 'peer', 'name', peerIface, 'netns', peerNs])
    run('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', iface])
    run('ip', ['-n', peerNs, 'addr', 'add', `${peerAddr}/24`, 'dev', peerIface])
    run('ip', ['-n', ns, 'link', 'set', iface, 'up'])
    run('ip', ['-n', peerNs, 'link', 'set', peerIface, 'up'])
  } catch (err) {
    cleanup()
    throw err
  }
  const sender = join(root, 'test', 'capture', 'fixtures', 'send-frames.py')
  return {
    ns, iface, addr, peerNs, peerIface, peerAddr, cleanup,
    exec: (n, cmd, args) => run('ip', ['netns', 'exec', n, cmd, ...args]),
    spawn: (n, cmd, args) => {
      const child = spawn('ip', ['netns', 'exec', n, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      // Flowing, so 'close' comes even when the caller reads neither stream.
      child.stdout!.resume()
      child.stderr!.resume()
      return child
    },
    send: (count, size, extra = []) => { run('ip', ['netns', 'exec', peerNs, 'python3', sender, peerIface, String(count), String(size), ...extra]) },
    promiscuity: () => Number(/promiscuity (\d+)/.exec(run('ip', ['-n', ns, '-d', 'link', 'show', iface]))?.[1]),
  }
}

/** A running `netkit capture` in a namespace. */
export interface RunningCapture {
  child: ChildProcess
  /** stderr so far. */
  stderr(): string
  stdout(): string
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts `netkit capture ARGS` in `ns` and resolves once it prints `listening on`. */
export async function startCapture(pair: VethPair, args: string[], ns = pair.ns): Promise<RunningCapture> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(root, 'bin', 'run.js'), 'capture', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  let out = ''
  child.stdout!.on('data', (d) => { out += d })
  child.stderr!.on('data', (d) => { err += d })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`capture did not start: ${err}`)) }, 15_000)
    const check = (): void => { if (err.includes('listening on')) { clearTimeout(timer); resolve() } }
    child.stderr!.on('data', check)
    void exited.then(() => { clearTimeout(timer); reject(new Error(`capture exited early: ${err}`)) })
  })
  return { child, stderr: () => err, stdout: () => out, exited }
}


/** The bytes fixtures/send-frames.py sends as frame i of `size` bytes (with an optional VLAN tag). */
export function expectedFrame(i: number, size: number, vlan?: number): Buffer {
  const head = [Buffer.from('020000000002020000000001', 'hex')]
  if (vlan !== undefined) { const t = Buffer.alloc(4); t.writeUInt16BE(0x8100); t.writeUInt16BE(vlan, 2); head.push(t) }
  const tail = Buffer.alloc(6); tail.writeUInt16BE(0x88b5); tail.writeUInt32BE(i, 2); head.push(tail)
  const h = Buffer.concat(head)
  const rest = Buffer.alloc(Math.max(0, size - h.length))
  for (let k = 0; k < rest.length; k++) rest[k] = (i + k) & 0xff
  return Buffer.concat([h, rest])
}

/**
 * A running tcpdump in a namespace: `stop()` waits until its file stops growing, ends it with
 * SIGINT, waits until the file is complete, and gives the counts tcpdump printed at exit.
 */
export interface NamespaceTcpdump { child: ChildProcess; stop(): Promise<TcpdumpCounts> }

/**
 * Starts `tcpdump -i IFACE -U --immediate-mode -B 32768 -w FILE [FILTER]` in `ns` and waits until it
 * listens. The 32 MiB buffer (libpcap's default is 2 MiB) keeps the oracle from dropping packets
 * while the clients, the server and netkit share two cores.
 */
export async function startTcpdumpIn(pair: VethPair, ns: string, iface: string, file: string, filter: string[] = []): Promise<NamespaceTcpdump> {
  const child = pair.spawn(ns, 'tcpdump', ['-i', iface, '-n', '-Z', 'root', '-U', '--immediate-mode', '-B', '32768', '-w', file, ...filter])
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
  let e = ''
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => { e += d; if (e.includes('listening')) resolve() })
    child.once('close', () => reject(new Error(`tcpdump exited: ${e}`)))
  })
  // -U writes each packet as it is read: once the file is quiet tcpdump has caught up, and
  // SIGINT loses nothing still waiting in its ring.
  return { child, stop: async () => { await quiet(file, 500, 15_000); child.kill('SIGINT'); await closed; return endCounts(e) } }
}
