// Decode-As (-d, and decodeAs in the config) on real traffic recorded here: dig against a tiny
// node:dgram DNS responder and curl against a node:http server, each on a port no shipped
// dissector claims. A TypeScript plugin that registers in no table, mapped with -d onto the DNS
// port, gives the same transaction ids as tshark's dns.id under tshark's own -d; the shipped
// http dissector under -d gives tshark's http fields under -d. Bad -d rules are usage errors.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import http from 'node:http'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { netkit, needs, run, sh, tempDir } from '../helpers/cli.js'
import { freeLowPort, isRoot, recordWithTcpdump } from '../helpers/servers.js'

/**
 * The test's configuration named with --config: run as root (as CI runs), netkit loads no
 * configuration it finds in the working folder; a user's own run finds it there.
 */
const cfg = (dir: string): string[] => ['--config', join(dir, '.netkitrc.json')]

const skip = !isRoot() ? 'needs root (tcpdump on lo records the traffic)' : needs('tcpdump', 'tshark', 'dig', 'curl')

/** The plugin: a few DNS header fields, reached only through Decode-As. */
const PLUGIN = `import { defineDissector, type DissectContext } from 'netkit'

const OPCODES: Record<number, string> = { 0: 'Standard query', 1: 'Inverse query', 2: 'Server status request' }

export default defineDissector({
  name: 'nkdns',
  title: 'A DNS header, reached with -d',
  fields: {
    id: { name: 'nkdns.id', type: 'uint', hexDigits: 4, label: 'Transaction ID' },
    response: { name: 'nkdns.flags.response', type: 'bool', bitmask: 0x8000, label: 'Response', values: { 0: 'Message is a query', 1: 'Message is a response' } },
    opcode: { name: 'nkdns.flags.opcode', type: 'uint', bitmask: 0x7800, label: 'Opcode', values: OPCODES },
    questions: { name: 'nkdns.count.queries', type: 'uint', label: 'Questions' },
  },
  handsOn: [],
  dissect(view, ctx: DissectContext, f) {
    const id: number = ctx.add(f.id, 0, 2)
    ctx.add(f.response, 2, 2)
    ctx.add(f.opcode, 2, 2)
    ctx.add(f.questions, 4, 2)
    if (ctx.wantsInfo) ctx.info(\`: NKDNS 0x\${id.toString(16)}\`, true)
  },
})
`

/** Answers every query with one A record, 127.0.0.1 (RFC 1035 section 4.1). */
function dnsResponder(): dgram.Socket {
  const s = dgram.createSocket('udp4')
  s.on('message', (q, from) => {
    if (q.length < 12) return
    const end = q.indexOf(0, 12) + 5 // the question: name, type, class
    const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1])
    const r = Buffer.concat([q.subarray(0, end), answer])
    r[2] = 0x80 | (q[2] & 0x79); r[3] = 0x80 // QR, opcode and RD copied; RA
    r.writeUInt16BE(1, 4); r.writeUInt16BE(1, 6); r.writeUInt16BE(0, 8); r.writeUInt16BE(0, 10)
    s.send(r, from.port, from.address)
  })
  return s
}

async function record(dir: string) {
  const file = join(dir, 'traffic.pcap')
  const dnsPort = await freeLowPort()
  const httpPort = await freeLowPort()
  const dns = dnsResponder()
  await new Promise<void>((resolve) => dns.bind(dnsPort, '127.0.0.1', resolve))
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => { res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' }); res.end(`you asked for ${req.url}\n`) })
  })
  await new Promise<void>((resolve) => server.listen(httpPort, '127.0.0.1', resolve))
  try {
    await recordWithTcpdump(file, `udp port ${dnsPort} or tcp port ${httpPort}`, async () => {
      for (const name of ['one.example.test', 'two.example.test', 'three.example.test']) {
        const r = await run('dig', ['@127.0.0.1', '-p', String(dnsPort), '+tries=1', '+time=5', name, 'A'])
        assert.equal(r.code, 0, r.stderr)
      }
      const base = `http://127.0.0.1:${httpPort}`
      for (const args of [[`${base}/a`], ['-d', 'x=1', `${base}/form`], [`${base}/missing`]]) {
        const r = await run('curl', ['-s', '-o', '/dev/null', ...args])
        assert.equal(r.code, 0, r.stderr)
      }
    })
  } finally {
    dns.close()
    server.close()
  }
  return { file, dnsPort, httpPort }
}

test('Decode-As on real DNS and HTTP traffic agrees with tshark -d', { skip }, async (t) => {
  const { dir, cleanup } = tempDir('netkit-decode-as-')
  t.after(cleanup)
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
  writeFileSync(join(dir, 'nkdns.ts'), PLUGIN)
  writeFileSync(join(dir, '.netkitrc.json'), JSON.stringify({ plugins: ['./nkdns.ts'] }))
  const { file, dnsPort, httpPort } = await record(dir)

  await t.test('a TypeScript plugin in no table, mapped with -d, gives tshark\'s dns.id', async () => {
    const want = sh('tshark', ['-n', '-r', file, '-d', `udp.port==${dnsPort},dns`, '-Y', 'dns', '-T', 'fields', '-e', 'frame.number', '-e', 'dns.id', '-e', 'dns.flags.response'])
    assert.equal(want.trim().split('\n').length, 6, 'three queries and three answers')
    const got = await netkit(['read', ...cfg(dir), '-r', file, '-d', `udp.port==${dnsPort},nkdns`, '-Y', 'nkdns', '-T', 'fields', '-e', 'frame.number', '-e', 'nkdns.id', '-e', 'nkdns.flags.response'], { cwd: dir })
    assert.equal(got.stderr, '')
    assert.equal(got.stdout, want)
    // Without -d it is reached from nowhere.
    const none = await netkit(['read', ...cfg(dir), '-r', file, '-Y', 'nkdns', '-T', 'fields', '-e', 'nkdns.id'], { cwd: dir })
    assert.equal(none.stdout, '')
    // The same from the configuration's decodeAs, as a range, and value names in -Y and -T verbose.
    writeFileSync(join(dir, 'range.json'), JSON.stringify({ plugins: ['./nkdns.ts'], decodeAs: [`udp.port==${dnsPort - 1}-${dnsPort + 1},nkdns`] }))
    const ranged = await netkit(['read', '-r', file, '--config', join(dir, 'range.json'), '-Y', 'nkdns.flags.opcode == "standard query" && nkdns.flags.response == "Message is a response"', '-T', 'verbose'], { cwd: dir })
    assert.equal(ranged.stderr, '')
    const responses = want.trim().split('\n').filter((l) => l.endsWith('\t1')).map((l) => l.split('\t')[0])
    assert.deepEqual([...ranged.stdout.matchAll(/^Frame (\d+):/gm)].map((m) => m[1]), responses)
    assert.match(ranged.stdout, /^ {4}1\.\.\. \.\.\.\. \.\.\.\. \.\.\.\. = Response: Message is a response$/m)
    assert.match(ranged.stdout, /^ {4}\.000 0\.\.\. \.\.\.\. \.\.\.\. = Opcode: Standard query \(0\)$/m)
  })

  await t.test('-d puts the shipped http dissector on a port it does not claim, as tshark -d does', async () => {
    const fields = ['frame.number', 'http.request.method', 'http.request.uri', 'http.response.code']
    const want = sh('tshark', ['-n', '-r', file, '-d', `tcp.port==${httpPort},http`, '-Y', 'http', '-T', 'fields', ...fields.flatMap((f) => ['-e', f])])
    assert.equal(want.trim().split('\n').length, 6, 'three requests and three responses')
    const got = await netkit(['read', ...cfg(dir), '-r', file, '-d', `tcp.port==${httpPort},http`, '-Y', 'http', '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { cwd: dir })
    assert.equal(got.stderr, '')
    assert.equal(got.stdout, want)
  })

  await t.test('every command that dissects takes -d; unknown tables and dissectors are usage errors', async () => {
    for (const args of [['streams', '-r', file], ['follow', '-r', file, '0'], ['http-log', '-r', file]]) {
      const ok = await netkit([...args, ...cfg(dir), '-d', `tcp.port==${httpPort},http`, '-Y', 'http.request.method == "POST"'], { cwd: dir })
      assert.equal(ok.code, 0, `${args[0]}: ${ok.stderr}`)
    }
    const badTable = await netkit(['streams', ...cfg(dir), '-r', file, '-d', 'tcp.prot==80,http', '-Y', 'http'], { cwd: dir })
    assert.equal(badTable.code, 2)
    assert.match(badTable.stderr, /no dissector table 'tcp\.prot' \(tables: .*tcp\.port.*udp\.port/)
    const badDissector = await netkit(['read', ...cfg(dir), '-r', file, '-d', `udp.port==${dnsPort},dnss`], { cwd: dir })
    assert.equal(badDissector.code, 2)
    assert.match(badDissector.stderr, /no dissector 'dnss' \(dissectors: .*http.*nkdns.*\)/)
    assert.equal(badDissector.stdout, '')
    const badSyntax = await netkit(['read', ...cfg(dir), '-r', file, '-d', 'udp.port=53,nkdns'], { cwd: dir })
    assert.equal(badSyntax.code, 2)
    assert.match(badSyntax.stderr, /expected TABLE==SELECTOR,DISSECTOR/)
  })
})
