/**
 * Test helpers: run the real CLI (bin/run.js, built by `npm test`'s pretest) and find the tools
 * the tests use as oracles.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The project root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** ../shared/corpus beside the project. */
export const corpus = join(root, '..', 'shared', 'corpus')

/** What a finished process left behind. */
export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  stdoutBytes: Buffer
}

/** Runs `netkit ARGS` to completion. */
export function netkit(args: string[], options: { input?: Buffer | string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return run(process.execPath, [join(root, 'bin', 'run.js'), ...args], options)
}

/** Runs any command to completion, collecting its output. */
export function run(cmd: string, args: string[], options: { input?: Buffer | string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd ?? root, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d) => out.push(d))
    child.stderr.on('data', (d) => err.push(d))
    child.on('error', reject)
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const stdoutBytes = Buffer.concat(out)
      resolve({ code, signal, stdout: stdoutBytes.toString(), stderr: Buffer.concat(err).toString(), stdoutBytes })
    })
    child.stdin.on('error', () => {})
    child.stdin.end(options.input)
  })
}

/** Runs a command synchronously and returns stdout (throws on failure). */
export function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

/** Whether an executable is on PATH. */
export function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0
}

/** A reason to skip when a tool is missing, or false. */
export function needs(...tools: string[]): string | false {
  const missing = tools.filter((t) => !have(t))
  return missing.length > 0 ? `needs ${missing.join(', ')} (not installed; .ci/run installs it)` : false
}

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'netkit-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** tshark -T fields output for a file (the oracle). */
/**
 * tshark flags that turn off the dissectors it binds to TCP ports inside Linux's ephemeral port
 * range (pmproxy's 44322, irc's 57000, ...): a client port the kernel happens to pick there would
 * make tshark decode that connection as that protocol instead of what netkit (and tshark on any
 * other port) decodes, e.g. HTTP by its heuristic.
 */
export function tsharkEphemeralPortArgs(): string[] {
  let lo = 32768, hi = 60999
  try { [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) } catch { /* Linux's default range */ }
  const names = sh('tshark', ['-G', 'decodes']).split('\n').map((l) => l.split('\t'))
    .filter(([table, port, name]) => table === 'tcp.port' && Number(port) >= lo && Number(port) <= hi && name !== undefined && name !== 'http')
    .map(([, , name]) => name)
  return [...new Set(names)].flatMap((name) => ['--disable-protocol', name])
}

export function tsharkFields(file: string, fields: string[], extra: string[] = []): string {
  return sh('tshark', ['-n', '-r', file, ...extra, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])])
}
