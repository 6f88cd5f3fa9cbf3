/**
 * `netkit capture --workers N`: N capture processes in one PACKET_FANOUT group on one
 * interface, each with its own ring and its own file (FILE's name with the worker index before
 * the extension: out.pcap -> out-0.pcap, out-1.pcap ...), the way Zeek and Suricata split a busy
 * link across processes. The parent starts them, says `listening on` once all are, passes
 * SIGINT/SIGTERM/SIGHUP on, and ends with the worst exit status among them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { extname } from 'node:path'
import { InvalidArgumentError } from '../errors.js'
import { fanoutText, type FanoutSpec } from './fanout.js'

/** FILE with the worker index before its extension. */
export function workerFile(file: string, index: number): string {
  const ext = extname(file)
  return ext === '' ? `${file}-${index}` : `${file.slice(0, -ext.length)}-${index}${ext}`
}

/**
 * The command line of worker `index`: the parent's, without --workers, with its -w FILE and
 * the group's --fanout.
 */
export function workerArgs(argv: readonly string[], index: number, spec: FanoutSpec): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--workers' || a === '--fanout') { i++; continue }
    if (a.startsWith('--workers=') || a.startsWith('--fanout=')) continue
    if (a === '-w' || a === '--write') {
      out.push(a, workerFile(argv[++i], index))
      continue
    }
    if (a.startsWith('--write=')) { out.push(`--write=${workerFile(a.slice(8), index)}`); continue }
    if (a.startsWith('-w') && a.length > 2) { out.push('-w', workerFile(a.slice(2), index)); continue }
    out.push(a)
  }
  out.push('--fanout', fanoutText(spec))
  return out
}

/** Runs the workers until they end; resolves with the exit status to end with. */
export async function runWorkers(options: { count: number; iface: string; spec: FanoutSpec; argv: readonly string[]; script: string; write?: string }): Promise<number> {
  if (!options.write) throw new InvalidArgumentError('--workers needs -w FILE (each worker writes FILE with its index)')
  const children: ChildProcess[] = []
  let listening = 0
  const exits: Promise<number>[] = []
  for (let k = 0; k < options.count; k++) {
    const child = spawn(process.execPath, [options.script, 'capture', ...workerArgs(options.argv, k, options.spec)], { stdio: ['ignore', 'inherit', 'pipe'] })
    children.push(child)
    let rest = ''
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      rest += d
      let nl
      while ((nl = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, nl)
        rest = rest.slice(nl + 1)
        if (line.startsWith('listening on ')) {
          if (++listening === options.count) process.stderr.write(`listening on ${options.iface} with ${options.count} workers (fan-out group ${fanoutText(options.spec)})\n`)
        } else process.stderr.write(`[worker ${k}] ${line}\n`)
      }
    })
    exits.push(new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)))))
  }
  const names = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
  const forward = (sig: NodeJS.Signals) => () => { for (const c of children) c.kill(sig) }
  const handlers = names.map((n) => [n, forward(n)] as const)
  for (const [n, h] of handlers) process.on(n, h)
  try {
    const codes = await Promise.all(exits)
    return Math.max(0, ...codes)
  } finally {
    for (const [n, h] of handlers) process.off(n, h)
  }
}
