/**
 * Benchmark: `netkit http` against wrk and autocannon, all hitting the same nginx on loopback with
 * 10 connections for the same duration, one after the other in one run. Prints requests/s and
 * the client's CPU seconds (user + system, from /usr/bin/time or /proc) and the ratios the issue
 * sets as targets: netkit >= 1.3x autocannon, >= 0.8x wrk; pipelined x10 >= wrk pipelined x10.
 * The clients take turns, round after round (3 by default, odd rounds in reverse order), and the
 * ratios are those of the medians, with the spread of the per-round ratios beside them: on a
 * shared virtual machine one run can be a fifth slower than the next for reasons of the host's. Each row also shows the CPU
 * time the host took from this machine meanwhile (steal, from /proc/stat).
 *
 *   npm run build && node --import tsx bench/http-load.bench.ts [--duration 5] [--rounds 3] [--no-pin] [--only plain|pipelined|tls] [--baseline DIR]
 *
 * --baseline DIR runs a second netkit build (a copy of bin, dist, package.json and
 * oclif.manifest.json, with node_modules and native linked) beside each netkit row, in the same
 * rounds, and prints this build's ratio to it: before and after a change in one run.
 *
 * The https rows use the same nginx over TLS (a self-signed certificate made with openssl), with
 * keep-alive, and with a new connection and handshake per request (wrk's `Connection: close`,
 * netkit's --no-keepalive, and bench/lib/tls-connect-loop.mjs: node:tls alone, the floor of any
 * Node.js client there). bench/lib/tls-keepalive-loop.mjs is the keep-alive counterpart: node:tls
 * through its public API (socket.write, onread) with no HTTP client around it, the same 10
 * connections and request, one request in flight on each: what node:tls allows a Node.js client.
 *
 * The machine may have only 2 cores, shared by nginx and the client. By default nginx (one
 * worker) is pinned to CPU 0 and each client to CPU 1 with taskset, so every client gets the same
 * single core and the server the other; --no-pin lets the scheduler place them.
 * autocannon comes from the npm registry through `npx --yes` into a temporary npm cache (never a
 * project dependency); it is skipped with a note when the registry cannot be reached.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { root } from '../test/helpers/cli.js'
import { nginxBinary, startNginx } from '../test/http/servers.js'
import { have, median, stealMeter } from './lib/measure.js'
import { makeCertificate } from '../test/helpers/tls-server.js'

const argv = process.argv.slice(2)
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : fallback
}
const duration = Number(arg('--duration', '5'))
const rounds = Math.max(1, Number(arg('--rounds', '3')))
const pin = !argv.includes('--no-pin') && have('taskset') && cpus().length >= 2
/** `--only plain` or `--only pipelined` runs half the plan (the other half's ratios print n/a). */
const only = arg('--only', '')
const baseline = arg('--baseline', '')
if (baseline !== '' && !existsSync(join(baseline, 'bin', 'run.js'))) {
  console.error(`bench/http-load: --baseline ${baseline} has no bin/run.js`)
  process.exit(2)
}
if (only !== '' && only !== 'plain' && only !== 'pipelined' && only !== 'tls') {
  console.error(`bench/http-load: --only takes plain, pipelined or tls, not ${only}`)
  process.exit(2)
}

/**
 * Every client sends the same request: GET / with Host and netkit's default User-Agent (wrk
 * sends no User-Agent of its own, autocannon none either), so the server does the same work per
 * request whichever client asks; nginx inspects every User-Agent it is given.
 */
const userAgent = 'netkit'

interface Measured { rps: number; cpu: number; note?: string; serverCpu?: number; steal?: number }

/** CPU seconds (user + system) the nginx workers have used so far, from /proc/PID/stat. */
function serverCpuSeconds(): number {
  let ticks = 0
  for (const pid of workerPids) {
    try {
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch { /* the worker is gone */ }
  }
  return ticks / 100 // USER_HZ is 100 on Linux
}
let workerPids: string[] = []

/** Runs one client and adds how much CPU the server spent meanwhile, and the host's steal. */
async function withServerCpu(run: () => Promise<Measured | null>): Promise<Measured | null> {
  const before = serverCpuSeconds()
  const steal = stealMeter()
  const m = await run()
  if (m !== null) {
    m.serverCpu = serverCpuSeconds() - before
    m.steal = steal()
  }
  return m
}

/** Runs a command, returning stdout and the CPU seconds it (and its children) used. */
function timed(cmd: string, args: string[], env?: Record<string, string>): Promise<{ stdout: string; cpu: number }> {
  const timeFile = join(work, `time-${Math.random().toString(36).slice(2)}`)
  const full = [...(pin ? ['taskset', '-c', '1'] : []), cmd, ...args]
  const useTime = existsSync('/usr/bin/time')
  const [bin, ...rest] = useTime ? ['/usr/bin/time', '-f', '%U %S', '-o', timeFile, ...full] : ['bash', '-c', `"$@"; times > ${timeFile}`, 'bench', ...full]
  return new Promise((resolve, reject) => {
    const child = spawn(bin, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${full.join(' ')} exited ${code}: ${stderr}`))
      const text = readFileSync(timeFile, 'utf8').trim()
      let cpu: number
      if (useTime) {
        const [u, s] = text.split(/\s+/).map(Number)
        cpu = u + s
      } else {
        // bash `times`: second line is the children's "XmY.YYYs XmY.YYYs".
        const line = text.split('\n')[1] ?? ''
        cpu = [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0)
      }
      resolve({ stdout, cpu })
    })
  })
}

async function wrk(url: string, pipeline: number, close = false): Promise<Measured> {
  const args = ['-t1', '-c10', `-d${duration}s`, '-H', `User-Agent: ${userAgent}`]
  // A new connection (and TLS handshake) per request: wrk reconnects when the server closes.
  if (close) args.push('-H', 'Connection: close')
  if (pipeline > 1) {
    // wrk pipelines through a Lua script: one request() call returns `pipeline` requests.
    const script = join(work, `pipeline-${pipeline}.lua`)
    writeFileSync(script, `init = function(args)\n  local r = {}\n  for i = 1, ${pipeline} do r[i] = wrk.format(nil, "/") end\n  req = table.concat(r)\nend\nrequest = function()\n  return req\nend\n`)
    args.push('-s', script)
  }
  const { stdout, cpu } = await timed('wrk', [...args, url])
  const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout)
  if (!m) throw new Error(`unexpected wrk output: ${stdout}`)
  return { rps: Number(m[1]), cpu }
}

async function netkit(url: string, pipeline: number, close = false, dir = root): Promise<Measured> {
  const args = [join(dir, 'bin', 'run.js'), 'http', url, '-c', '10', '-d', `${duration}s`, '--json']
  if (pipeline > 1) args.push('--pipeline', String(pipeline))
  if (url.startsWith('https:')) args.push('--insecure')
  if (close) args.push('--no-keepalive')
  const { stdout, cpu } = await timed(process.execPath, args)
  const report = JSON.parse(stdout) as { requestsPerSec: number; errors: number }
  return { rps: report.requestsPerSec, cpu, note: report.errors > 0 ? `${report.errors} errors` : undefined }
}

/**
 * node:tls alone: bench/lib/tls-connect-loop.mjs, a connection per request (the floor for netkit
 * --no-keepalive), or bench/lib/tls-keepalive-loop.mjs, keep-alive connections (the ceiling for netkit https).
 */
async function tlsLoop(script: 'tls-connect-loop.mjs' | 'tls-keepalive-loop.mjs', url: string): Promise<Measured> {
  const { stdout, cpu } = await timed(process.execPath, [join(root, 'bench', 'lib', script), url, String(duration), userAgent])
  const report = JSON.parse(stdout) as { requests: number; errors: number; seconds: number }
  return { rps: report.requests / report.seconds, cpu, note: report.errors > 0 ? `${report.errors} errors` : undefined }
}

let autocannonScript: string | null | undefined
/** Installs autocannon with npx into a temporary npm cache and finds its entry script. */
function findAutocannon(): string | null {
  if (autocannonScript !== undefined) return autocannonScript
  const cache = join(work, 'npm-cache')
  const r = spawnSync('npx', ['--yes', 'autocannon', '--version'], { env: { ...process.env, npm_config_cache: cache, npm_config_update_notifier: 'false' }, encoding: 'utf8', timeout: 180_000 })
  autocannonScript = null
  if (r.status !== 0) {
    console.log(`autocannon: not available from the npm registry (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}); skipped`)
    return null
  }
  const npx = join(cache, '_npx')
  for (const dir of existsSync(npx) ? readdirSync(npx) : []) {
    const script = join(npx, dir, 'node_modules', 'autocannon', 'autocannon.js')
    if (existsSync(script)) autocannonScript = script
  }
  return autocannonScript
}

async function autocannon(url: string, pipeline: number): Promise<Measured | null> {
  const script = findAutocannon()
  if (script === null) return null
  const args = [script, '-c', '10', '-d', String(duration), '--json', '-H', `User-Agent=${userAgent}`]
  if (pipeline > 1) args.push('-p', String(pipeline))
  // autocannon has no flag for a self-signed certificate: Node's own switch, for its process only.
  const { stdout, cpu } = await timed(process.execPath, [...args, url], url.startsWith('https:') ? { NODE_TLS_REJECT_UNAUTHORIZED: '0', NODE_NO_WARNINGS: '1' } : undefined)
  const report = JSON.parse(stdout) as { requests: { total: number }; duration: number; errors: number; non2xx: number }
  return { rps: report.requests.total / report.duration, cpu, note: report.errors > 0 ? `${report.errors} errors` : undefined }
}

function row(name: string, m: Measured | null): string {
  if (m === null) return `${name.padEnd(34)} ${'n/a'.padStart(10)}`
  const server = m.serverCpu === undefined ? '' : ` ${m.serverCpu.toFixed(2).padStart(13)} ${(m.serverCpu * 1e6 / (m.rps * duration)).toFixed(2).padStart(14)}`
  const steal = m.steal === undefined ? '' : ` ${(100 * m.steal).toFixed(1).padStart(7)}`
  return `${name.padEnd(34)} ${m.rps.toFixed(0).padStart(10)} ${m.cpu.toFixed(2).padStart(8)} ${(m.rps * duration / Math.max(m.cpu, 0.001)).toFixed(0).padStart(12)}${server}${steal}${m.note ? `  (${m.note})` : ''}`
}

/** The median of the measured req/s, or null. */
const medianRps = (list: Array<Measured | null>): number | null => median(list.filter((m): m is Measured => m !== null).map((m) => m.rps))

/** The ratio of the medians, and the lowest and highest ratio of the rounds' own runs. */
function ratio(a: Array<Measured | null>, b: Array<Measured | null>): string {
  const ma = medianRps(a)
  const mb = medianRps(b)
  if (ma === null || mb === null) return 'n/a'
  const perRound = a.flatMap((m, i) => (m && b[i] ? [m.rps / b[i]!.rps] : []))
  const spread = perRound.length > 1 ? `  (rounds ${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)})` : ''
  return `${(ma / mb).toFixed(2)}${spread}`
}

if (nginxBinary() === null || !have('wrk')) {
  console.log('bench needs nginx and wrk (apt-get install nginx wrk); skipped')
  process.exit(0)
}
if (!existsSync(join(root, 'dist', 'commands', 'http.js'))) {
  console.log('build first: npm run build')
  process.exit(1)
}
const work = mkdtempSync(join(tmpdir(), 'netkit-bench-'))
// HTTPS rows need openssl for the server's certificate; without it they are skipped.
const cert = have('openssl') ? makeCertificate(join(work, 'pki')) : undefined
const nginx = await startNginx({ workers: 1, accessLog: false, tls: cert })
try {
  if (pin) {
    // Pin every nginx process (master and worker) to CPU 0; the clients run on CPU 1.
    for (const pid of spawnSync('pgrep', ['-f', `nginx.*${nginx.port}|nginx: worker`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) {
      spawnSync('taskset', ['-pc', '0', pid])
    }
  }
  workerPids = spawnSync('pgrep', ['-P', String(nginx.pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)
  findAutocannon()
  console.log(`nginx ${nginx.url} (1 worker), 10 connections, ${duration} s per run, ${cpus().length} CPUs: ${pin ? 'nginx pinned to CPU 0, each client to CPU 1' : 'not pinned: server and client share the CPUs'}`)
  const results: Record<string, Array<Measured | null>> = {}
  const fullPlan: Array<[string, () => Promise<Measured | null>]> = [
    ['wrk', () => wrk(nginx.url, 1)],
    ['autocannon', () => autocannon(nginx.url, 1)],
    ['netkit', () => netkit(nginx.url, 1)],
    ['wrk pipelined x10', () => wrk(nginx.url, 10)],
    ['autocannon pipelined x10', () => autocannon(nginx.url, 10)],
    ['netkit pipelined x10', () => netkit(nginx.url, 10)],
    ...(nginx.httpsUrl === undefined ? [] : [
      ['wrk https', () => wrk(nginx.httpsUrl!, 1)],
      ['autocannon https', () => autocannon(nginx.httpsUrl!, 1)],
      ['netkit https', () => netkit(nginx.httpsUrl!, 1)],
      ['node tls.connect https keep-alive', () => tlsLoop('tls-keepalive-loop.mjs', nginx.httpsUrl!)],
      ['wrk https close', () => wrk(nginx.httpsUrl!, 1, true)],
      ['netkit https no-keepalive', () => netkit(nginx.httpsUrl!, 1, true)],
      ['node tls.connect https close', () => tlsLoop('tls-connect-loop.mjs', nginx.httpsUrl!)],
    ] as Array<[string, () => Promise<Measured | null>]>),
  ]
  const kindOf = (name: string): string => name.includes('https') ? 'tls' : name.includes('pipelined') ? 'pipelined' : 'plain'
  const baselineRows: Array<[string, () => Promise<Measured | null>]> = baseline === '' ? [] : [
    ['baseline netkit', () => netkit(nginx.url, 1, false, baseline)],
    ['baseline netkit pipelined x10', () => netkit(nginx.url, 10, false, baseline)],
    ...(nginx.httpsUrl === undefined ? [] : [
      ['baseline netkit https', () => netkit(nginx.httpsUrl!, 1, false, baseline)],
      ['baseline netkit https no-keepalive', () => netkit(nginx.httpsUrl!, 1, true, baseline)],
    ] as Array<[string, () => Promise<Measured | null>]>),
  ]
  // Each baseline row runs right after the row of this build it is compared with.
  const withBaseline = fullPlan.flatMap((entry) => [entry, ...baselineRows.filter(([name]) => name === `baseline ${entry[0]}`)])
  const plan = withBaseline.filter(([name]) => only === '' || kindOf(name) === only)
  // Odd rounds run the plan backwards, so no client always follows the same one (a run can
  // leave the next the host's reclaim of the memory it freed, or a warmer server).
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of round % 2 === 0 ? plan : [...plan].reverse()) (results[name] ??= []).push(await withServerCpu(fn))
  }
  console.log(`${'client'.padEnd(34)} ${'req/s'.padStart(10)} ${'CPU s'.padStart(8)} ${'req/CPU s'.padStart(12)} ${'server CPU s'.padStart(13)} ${'server µs/req'.padStart(14)} ${'steal %'.padStart(7)}`)
  for (const [name] of plan) for (const m of results[name]) console.log(row(name, m))
  const r = (a: string, b: string) => (results[a] && results[b] ? ratio(results[a], results[b]) : 'n/a (not run)')
  console.log('')
  console.log(`ratios of the medians of ${rounds} round${rounds === 1 ? '' : 's'}:`)
  console.log(`netkit / autocannon            ${r('netkit', 'autocannon')}  target >= 1.3`)
  console.log(`netkit / wrk                   ${r('netkit', 'wrk')}  target >= 0.8`)
  console.log(`netkit x10 / wrk x10           ${r('netkit pipelined x10', 'wrk pipelined x10')}  target >= 1.0`)
  console.log(`netkit x10 / autocannon x10    ${r('netkit pipelined x10', 'autocannon pipelined x10')}`)
  console.log(`https: netkit / autocannon     ${r('netkit https', 'autocannon https')}  target >= 1.3`)
  console.log(`https: netkit / wrk            ${r('netkit https', 'wrk https')}  target >= 0.8`)
  console.log(`  bare node:tls loop / wrk     ${r('node tls.connect https keep-alive', 'wrk https')}  (what node:tls allows)`)
  console.log(`  netkit / bare node:tls loop  ${r('netkit https', 'node tls.connect https keep-alive')}`)
  console.log(`https, a handshake per request: netkit / wrk  ${r('netkit https no-keepalive', 'wrk https close')}`)
  console.log(`  netkit / bare node:tls loop   ${r('netkit https no-keepalive', 'node tls.connect https close')}`)
  if (baseline !== '') {
    console.log(`this build / baseline (${baseline}):`)
    for (const name of ['netkit', 'netkit pipelined x10', 'netkit https', 'netkit https no-keepalive']) {
      if (results[name] && results[`baseline ${name}`]) console.log(`  ${name.padEnd(28)} ${ratio(results[name], results[`baseline ${name}`])}`)
    }
  }
} finally {
  await nginx.stop()
  rmSync(work, { recursive: true, force: true })
}
