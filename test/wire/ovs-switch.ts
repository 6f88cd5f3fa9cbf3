/**
 * Open vSwitch's userspace datapath (`datapath_type=netdev`) as the tunnel maker of the wire
 * tests where the kernel has no tunnel driver: ovs-vswitchd encapsulates GRE, ip6gre, Geneve and
 * ERSPAN v1/v2 itself and sends the packets through AF_PACKET on the veth it is given, so the
 * capture holds another real implementation's tunnel headers. Each namespace gets its own
 * ovsdb-server and ovs-vswitchd with their database, sockets, pid files and logs in a folder of
 * the test's; stop() ends both by the pids in their pid files. See: ovs-vswitchd(8),
 * ovs-vswitchd.conf.db(5) (Interface options: remote_ip, key, packet_type, erspan_*),
 * Documentation/howto/userspace-tunneling.rst.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { have } from '../helpers/cli.js'

const TOOLS = ['ovsdb-tool', 'ovsdb-server', 'ovs-vswitchd', 'ovs-vsctl', 'ovs-ofctl']

/** Why Open vSwitch cannot make tunnels here, or false. */
export function ovsSkip(): string | false {
  const missing = TOOLS.filter((t) => !have(t))
  if (missing.length > 0) return `Open vSwitch is not installed (${missing.join(', ')}; .ci/run installs openvswitch-switch)`
  // The userspace datapath's internal ports (where the addresses go) are tap devices.
  if (!existsSync('/dev/net/tun')) return 'Open vSwitch\'s userspace datapath needs /dev/net/tun for its internal ports'
  return false
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000, env: env ? { ...process.env, ...env } : process.env })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`)
  return r.stdout
}

/** One ovsdb-server and ovs-vswitchd pair running inside network namespace `ns`. */
export class OvsSwitch {
  readonly dir: string
  private readonly env: NodeJS.ProcessEnv

  constructor(readonly ns: string, parent: string) {
    this.dir = join(parent, ns)
    // Every file the daemons write (bridge management sockets too) stays in the test's folder.
    this.env = { OVS_RUNDIR: this.dir, OVS_DBDIR: this.dir, OVS_LOGDIR: this.dir }
  }

  /** Creates the database and starts both daemons; each returns once it serves its socket. */
  start(): void {
    mkdirSync(this.dir, { recursive: true })
    const d = this.dir
    run('ovsdb-tool', ['create', join(d, 'conf.db')], this.env)
    this.exec('ovsdb-server', [join(d, 'conf.db'), `--remote=punix:${join(d, 'db.sock')}`, `--pidfile=${join(d, 'ovsdb-server.pid')}`,
      `--unixctl=${join(d, 'ovsdb-server.ctl')}`, `--log-file=${join(d, 'ovsdb-server.log')}`, '--detach'])
    this.vsctl('--no-wait', 'init')
    this.exec('ovs-vswitchd', [`unix:${join(d, 'db.sock')}`, `--pidfile=${join(d, 'ovs-vswitchd.pid')}`,
      `--unixctl=${join(d, 'ovs-vswitchd.ctl')}`, `--log-file=${join(d, 'ovs-vswitchd.log')}`, '--detach'])
  }

  private exec(cmd: string, args: string[]): string {
    return run('ip', ['netns', 'exec', this.ns, cmd, ...args], this.env)
  }

  /** ovs-vsctl against this switch's database (it waits until ovs-vswitchd applied the change). */
  vsctl(...args: string[]): string {
    return this.exec('ovs-vsctl', [`--db=unix:${join(this.dir, 'db.sock')}`, '--timeout=15', ...args])
  }

  /** ovs-ofctl against bridge `bridge`'s management socket. */
  ofctl(command: string, bridge: string, ...args: string[]): string {
    return this.exec('ovs-ofctl', [command, `unix:${join(this.dir, `${bridge}.mgmt`)}`, ...args])
  }

  /** A userspace bridge; its internal port (a tap named like the bridge) is where addresses go. */
  addBridge(name: string, ...more: string[]): void {
    this.vsctl('add-br', name, '--', 'set', 'bridge', name, 'datapath_type=netdev', ...more)
  }

  /** The last lines of the daemon's log, for a failure message. */
  logTail(): string {
    const log = join(this.dir, 'ovs-vswitchd.log')
    return existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-8).join('\n') : ''
  }

  /** Ends both daemons by their pid files (SIGTERM, then SIGKILL after 2 s); safe to repeat. */
  async stop(): Promise<void> {
    for (const name of ['ovs-vswitchd', 'ovsdb-server']) {
      const file = join(this.dir, `${name}.pid`)
      if (!existsSync(file)) continue
      const pid = Number(readFileSync(file, 'utf8').trim())
      if (!Number.isInteger(pid) || pid <= 1) continue
      if (!alive(pid)) continue
      signal(pid, 'SIGTERM')
      for (let n = 0; n < 40 && alive(pid); n++) await new Promise((r) => setTimeout(r, 50))
      if (alive(pid)) signal(pid, 'SIGKILL')
    }
  }
}

/**
 * Whether `pid` still runs. A detached daemon's parent is whatever reaps orphans here; where
 * nothing does, an ended one stays a zombie (state Z in /proc/<pid>/stat, see proc(5)), which
 * counts as ended.
 */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // Already gone.
  }
}
