// Display filters select the same packets as tshark -Y, expression by expression, on real
// captures: corpus files and an HTTP capture the test makes (nginx, node:http, curl on loopback).
// An expression tshark refuses must be refused (DisplayFilterError, exit 2 on the CLI).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { corpus, needs, root, run, tempDir } from '../helpers/cli.js'
import { httpCapture } from '../helpers/http-capture.js'
import { isRoot } from '../helpers/servers.js'
import { compileDisplayFilter } from '../../src/dfilter/index.js'
import { loadDissectors } from '../../src/dissect/plugin-loader.js'
import { readPackets } from '../../src/dissect/read-packets.js'
import { validateConfig } from '../../src/config.js'
import { DisplayFilterError } from '../../src/errors.js'

/** Expressions: the shared sample and netkit's own list (one a line, '#' comments). */
function expressions(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  } catch { return [] }
}
const EXPRS = [...new Set([...expressions(join(root, '..', 'shared', 'tools', 'dfilters-sample.txt')), ...expressions(join(root, 'test', 'dfilter', 'expressions.txt'))])]
const CORPUS = ['tcp-handshake-nano.pcap', 'ipv4_tcp_http_xml.pcap', 'dns_udp.pcap', 'icmpv6.pcap', 'arp-too-long-tha.pcap', '802.1ad_QinQ.pcap', 'print-flags.pcap', 'ipv6-routing-header.pcap']
  .map((n) => join(corpus, 'tcpdump', n))

const { dir, cleanup } = tempDir('netkit-dfilter-')
const httpSkip = !isRoot() ? 'capturing on lo needs root (CI runs as root)' : needs('tcpdump', 'nginx', 'curl')
const skip = needs('tshark', 'mergecap')
/**
 * The captures joined end to end into one pcapng (mergecap -a keeps each file's link type as an
 * interface of its own): one tshark run per expression instead of one per expression and file.
 */
let joined = ''

before(async () => {
  if (skip) return
  const files = [...CORPUS]
  if (!httpSkip) files.push(await httpCapture(dir))
  joined = join(dir, 'joined.pcapng')
  const r = await run('mergecap', ['-a', '-F', 'pcapng', '-w', joined, ...files])
  assert.equal(r.code, 0, r.stderr)
})
after(() => cleanup())

/** tshark's frame numbers for `expr` on `file`, or undefined when tshark refuses it. */
async function tsharkSelects(file: string, expr: string): Promise<number[] | undefined> {
  const r = await run('tshark', ['-n', '-r', file, '-Y', expr, '-T', 'fields', '-e', 'frame.number'])
  return r.code === 0 ? r.stdout.split('\n').filter(Boolean).map(Number) : undefined
}

/** netkit's frame numbers (through the library, as `read -Y` runs it), or undefined when refused. */
async function netkitSelects(file: string, expr: string): Promise<number[] | undefined> {
  const { registry } = await loadDissectors(validateConfig({}))
  try {
    compileDisplayFilter(expr, registry)
  } catch (err) {
    assert.ok(err instanceof DisplayFilterError, `${expr}: ${(err as Error).stack}`)
    return undefined
  }
  const out: number[] = []
  for await (const p of readPackets(file, { registry, displayFilter: expr, fields: ['frame.number'] })) out.push(p.number)
  return out
}

test('display filters agree with tshark -Y on corpus captures and a real HTTP capture', { skip }, async () => {
  assert.ok(EXPRS.length >= 30, 'the expression lists are there')
  const bad: string[] = []
  let next = 0
  // Two tshark runs at a time (this machine has two cores).
  const worker = async (): Promise<void> => {
    while (next < EXPRS.length) {
      const expr = EXPRS[next++]
      const [want, got] = await Promise.all([tsharkSelects(joined, expr), netkitSelects(joined, expr)])
      if (JSON.stringify(want) !== JSON.stringify(got)) {
        bad.push(`${expr} | tshark=${want ? `${want.length} [${want.slice(0, 8)}]` : 'refused'} netkit=${got ? `${got.length} [${got.slice(0, 8)}]` : 'refused'}`)
      }
    }
  }
  await Promise.all([worker(), worker()])
  assert.deepEqual(bad, [])
})
