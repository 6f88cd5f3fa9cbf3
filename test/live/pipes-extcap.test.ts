/**
 * netkit live in other tools: `capture -w - -U` read by tshark while the capture runs (and the
 * capture ending cleanly when tshark quits), `read -w -` into a pipe, and Wireshark's extcap
 * protocol checked with the real tshark: `tshark -D` lists netkit-lo after `netkit extcap
 * install`, `tshark -i netkit-lo -f ...` captures through netkit, `tshark -i netkit-http` runs a
 * load and captures its SYNs. The launcher is removed afterwards, also when a test fails.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { connect, createServer as createTcpServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { parseExtcapArgs, configAnswer, captureArgs, captureCommandArgs } from '../../src/extcap/protocol.js'
import { have, netkit, root, run, corpus } from '../helpers/cli.js'
import { freePort } from '../helpers/servers.js'

const addon = join(root, 'native', 'build', 'Release', 'netkit_capture.node')
const liveSkip = process.platform !== 'linux' ? 'live capture needs Linux'
  : process.getuid?.() !== 0 ? 'needs root to capture on lo'
    : !existsSync(addon) ? 'the capture addon is not built'
      : !have('tshark') ? 'needs tshark' : false

/** Opens and closes `n` TCP connections to 127.0.0.1:port, one after another. */
async function connections(port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.end('x'))
      s.on('close', () => resolve())
      s.on('error', () => resolve())
    })
  }
}

/** Resolves when `child`'s stream has printed text matching `re`, or rejects after `ms`. */
function waitFor(stream: NodeJS.ReadableStream, re: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; saw: ${seen.slice(-500)}`)), ms)
    stream.on('data', (d: Buffer) => {
      seen += d.toString()
      if (re.test(seen)) {
        clearTimeout(timer)
        resolve(seen)
      }
    })
  })
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode)
    else child.on('exit', (code) => resolve(code))
  })
}

describe('extcap protocol', () => {
  test('unknown options are ignored, values come as --name value or --name=value', () => {
    const req = parseExtcapArgs(['--capture', '--extcap-interface=netkit-lo', '--fifo', '/tmp/f', '--debug', '--extcap-control-in', '/tmp/c', '--snaplen', '96', '--no-promiscuous', '--extcap-capture-filter', 'tcp port 80', '--future-option=1'])
    assert.equal(req.action, 'capture')
    assert.equal(req.interface, 'netkit-lo')
    assert.equal(req.fifo, '/tmp/f')
    assert.equal(req.captureFilter, 'tcp port 80')
    assert.deepEqual(captureCommandArgs(req, 'lo'), ['-i', 'lo', '-w', '/tmp/f', '-U', '-s', '96', '-p', 'tcp port 80'])
  })

  test('--extcap-config lines are {key=value} pairs Wireshark can read', () => {
    const lines = configAnswer(captureArgs()).trim().split('\n')
    assert.equal(lines.length, captureArgs().length)
    for (const line of lines) assert.match(line, /^arg (\{[a-z]+=[^{}\n]*\})+$/)
  })

  test('a bad extcap call is one usage line, exit 2', async () => {
    const r = await netkit(['extcap', '--extcap-interface', 'eth0', '--extcap-dlts'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^netkit extcap: --extcap-interface needs one of netkit's interfaces/)
    assert.equal(r.stderr.trim().split('\n').length, 1)
  })
})

describe('pipes', { skip: liveSkip }, () => {
  test('tshark reads capture -w - -U while it runs; tshark quitting ends the capture with exit 0 and its counts', { timeout: 60_000 }, async () => {
    const server = createTcpServer((s) => s.resume().on('end', () => s.end())).listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    const port = (server.address() as { port: number }).port
    // A pipe from netkit straight to tshark (as a shell's `|`): tshark holds its only read end.
    const tshark = spawn('tshark', ['-n', '-l', '-i', '-'], { stdio: ['pipe', 'pipe', 'pipe'] })
    const capture = spawn(process.execPath, [join(root, 'bin', 'run.js'), 'capture', '-i', 'lo', '-w', '-', '-U', `tcp port ${port}`], { stdio: ['ignore', tshark.stdin, 'pipe'] })
    const captureErr = waitFor(capture.stderr, /packets? dropped by kernel/, 50_000)
    try {
      await waitFor(capture.stderr, /listening on lo/, 20_000)
      // Traffic until tshark shows a packet: it reads while netkit is still capturing.
      const shown = waitFor(tshark.stdout, new RegExp(`→ ${port} `), 30_000)
      let done = false
      shown.finally(() => { done = true }).catch(() => {})
      while (!done) await connections(port, 2)
      await shown
      assert.equal(capture.exitCode, null, 'the capture still runs while tshark shows its packets')
      tshark.kill('SIGTERM')
      await exited(tshark)
      // The next writes find the pipe closed: netkit stops as if asked to, with its counts.
      const ended = exited(capture)
      let over = false
      ended.finally(() => { over = true })
      while (!over) await connections(port, 2)
      const status = await ended
      const err = await captureErr.catch((e: Error) => e.message)
      assert.equal(status, 0, err)
      assert.match(err, /\d+ packets? captured\n\d+ packets? received by filter\n\d+ packets? dropped by kernel/)
      assert.doesNotMatch(err, /EPIPE|Error|at .*\.js/)
    } finally {
      capture.kill('SIGKILL')
      tshark.kill('SIGKILL')
      server.close()
    }
  })
})

describe('read -w - into a pipe', () => {
  const file = join(corpus, 'tcpdump', 'ssh.pcap')
  test('tshark reads what read -w - writes; a reader that quits early is no error', { skip: !have('tshark') ? 'needs tshark' : false }, async () => {
    const piped = spawnSync('sh', ['-c', `node bin/run.js read -r '${file}' -w - | tshark -n -r - -T fields -e frame.len`], { cwd: root, encoding: 'utf8' })
    const direct = spawnSync('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.len'], { encoding: 'utf8' })
    assert.ok(direct.stdout.length > 0)
    assert.equal(piped.stdout, direct.stdout)
    const head = spawnSync('bash', ['-c', `set -o pipefail; node bin/run.js read -r '${file}' -w - | head -c 100 > /dev/null`], { cwd: root, encoding: 'utf8' })
    assert.equal(head.stderr, '')
    assert.equal(head.status, 0)
  })
})

describe('extcap in tshark', { skip: liveSkip }, () => {
  let dir = ''
  let installed = ''
  let http: Server
  let httpPort = 0
  let accepted = 0
  const work = mkdtempSync(join(tmpdir(), 'netkit-extcap-'))

  before(async () => {
    const r = await netkit(['extcap', 'install'])
    assert.equal(r.code, 0, r.stderr)
    installed = /^installed (\S+);/.exec(r.stdout)![1]
    dir = installed.slice(0, installed.lastIndexOf('/'))
    httpPort = await freePort()
    http = createServer((_q, s) => s.end('ok'))
    http.on('connection', () => { accepted++ })
    await new Promise<void>((resolve) => http.listen(httpPort, '127.0.0.1', resolve))
  })

  after(async () => {
    const r = await netkit(['extcap', 'uninstall', '--dir', dir])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(existsSync(installed), false)
    http?.close()
    rmSync(work, { recursive: true, force: true })
  })

  test('tshark -D lists netkit-lo and netkit-http', async () => {
    const r = await run('tshark', ['-D'])
    assert.match(r.stdout, /\bnetkit-lo\b/)
    assert.match(r.stdout, /\bnetkit-http\b/)
  })

  test('tshark -i netkit-lo -f FILTER -a packets:20 captures the traffic through netkit', { timeout: 90_000 }, async () => {
    const server = createTcpServer((s) => s.resume().on('end', () => s.end())).listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    const port = (server.address() as { port: number }).port
    const out = join(work, 'lo.pcapng')
    const tshark = spawn('tshark', ['-i', 'netkit-lo', '-f', `tcp port ${port}`, '-a', 'packets:20', '-w', out], { stdio: ['ignore', 'pipe', 'pipe'] })
    const ended = exited(tshark)
    let over = false
    ended.finally(() => { over = true })
    const timer = setTimeout(() => tshark.kill('SIGTERM'), 80_000)
    try {
      while (!over) await connections(port, 2)
    } finally {
      clearTimeout(timer)
      server.close()
    }
    const ports = spawnSync('tshark', ['-n', '-r', out, '-T', 'fields', '-e', 'tcp.port'], { encoding: 'utf8' }).stdout.trim().split('\n')
    assert.equal(ports.length, 20)
    for (const p of ports) assert.ok(p.split(',').includes(String(port)), `only the filtered traffic: ${p}`)
    // The extcap process ended with tshark's SIGTERM: no netkit left running on that fifo.
    const left = spawnSync('pgrep', ['-f', `extcap --capture --extcap-interface netkit-lo`]).stdout.toString().trim()
    assert.equal(left, '')
  })

  test('tshark -i netkit-http runs the load and captures the SYN of every connection it dials', { timeout: 90_000 }, async () => {
    accepted = 0
    const out = join(work, 'http.pcapng')
    const r = await run('tshark', [
      '-i', 'netkit-http',
      '-o', `extcap.netkit_http.url:http://127.0.0.1:${httpPort}/`,
      '-o', 'extcap.netkit_http.requests:40',
      '-o', 'extcap.netkit_http.connections:2',
      // No idle connection is kept: most requests need a new connection, as the pool rules say.
      '-o', 'extcap.netkit_http.maxidleperhost:0',
      '-a', 'duration:60', '-w', out,
    ], { timeoutMs: 80_000 })
    assert.ok(existsSync(out), r.stderr)
    const syns = spawnSync('tshark', ['-n', '-r', out, '-Y', `tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == ${httpPort}`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean)
    assert.ok(accepted > 2, `the load re-dialled (server accepted ${accepted})`)
    assert.equal(syns.length, accepted)
    const requests = spawnSync('tshark', ['-n', '-r', out, '-Y', 'http.request'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean)
    assert.equal(requests.length, 40)
  })

  test('uninstall leaves a file that is not netkit\'s alone', async () => {
    const other = join(work, 'netkit')
    writeFileSync(other, '#!/bin/sh\necho someone else\n')
    const r = await netkit(['extcap', 'uninstall', '--dir', work])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /is not a netkit launcher; left in place/)
    assert.equal(readFileSync(other, 'utf8'), '#!/bin/sh\necho someone else\n')
  })
})
