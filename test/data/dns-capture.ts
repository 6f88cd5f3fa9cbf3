/**
 * A real DNS capture: dig against dnsmasq on loopback (UDP queries, and two over TCP), recorded
 * by tcpdump. Made once per test process.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { run } from '../helpers/cli.js'
import { freePort, recordWithTcpdump, waitForPort } from '../helpers/servers.js'

let made: Promise<string> | undefined

/** Records the capture into `dir` (once per process) and returns its path. */
export function dnsCapture(dir: string): Promise<string> {
  made ??= record(dir)
  return made
}

async function record(dir: string): Promise<string> {
  const file = join(dir, 'dns.pcap')
  const port = await freePort()
  const dnsmasq = spawn('dnsmasq', ['-k', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--listen-address=127.0.0.1', '--bind-interfaces',
    `--port=${port}`, '--address=/netkit.test/10.1.2.3', '--pid-file=', '--user=root'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  dnsmasq.stderr!.on('data', (d) => { err += d })
  try {
    await waitForPort(port).catch((e) => { throw new Error(`dnsmasq did not start: ${err}`, { cause: e }) })
    await recordWithTcpdump(file, `port ${port}`, async () => {
      for (const [name, extra] of [['a.netkit.test', []], ['b.netkit.test', ['AAAA']], ['c.netkit.test', ['MX']], ['d.netkit.test', []], ['e.netkit.test', ['+tcp']], ['f.netkit.test', ['+tcp']]] as const) {
        const r = await run('dig', ['+tries=1', '+time=2', '-p', String(port), '@127.0.0.1', name, ...extra])
        if (r.code !== 0) throw new Error(`dig ${name}: ${r.stdout}${r.stderr}`)
      }
    })
  } finally {
    dnsmasq.kill('SIGTERM')
    await new Promise((resolve) => dnsmasq.on('close', resolve))
  }
  return file
}
