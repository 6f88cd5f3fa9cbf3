// Usage errors and file errors: one clean line, the right exit status, no stack trace.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { corpus, netkit } from '../helpers/cli.js'

const dns = join(corpus, 'tcpdump', 'dns_udp.pcap')

const cases: Array<[string, string[], number, RegExp]> = [
  ['unknown command', ['frobnicate'], 2, /^netkit: 'frobnicate' is not a netkit command \(netkit help lists them\)\n$/],
  ['missing required flag', ['read'], 2, /^netkit read: Missing required flag read \(see netkit read --help\)\n$/],
  ['bad -T value', ['read', '-r', dns, '-T', 'xml'], 2, /^netkit read: Expected --format=xml to be one of: text, verbose, fields, ndjson/],
  ['bad -c value', ['read', '-r', dns, '-c', 'many'], 2, /^netkit read: .*integer.*\n$/],
  ['-T fields without -e', ['read', '-r', dns, '-T', 'fields'], 2, /^netkit read: -T fields needs at least one -e FIELD/],
  ['unknown field', ['read', '-r', dns, '-T', 'fields', '-e', 'frame.bogus'], 2, /^netkit read: unknown field 'frame\.bogus'/],
  ['missing file', ['read', '-r', '/nonexistent/x.pcap'], 1, /^netkit read: \/nonexistent\/x\.pcap: cannot open it: no such file or directory\n$/],
  ['a directory', ['read', '-r', '/tmp'], 1, /^netkit read: \/tmp: cannot open it: is a directory\n$/],
  ['unwritable -w', ['read', '-r', dns, '-w', '/nonexistent/out.pcap'], 1, /^netkit read: \/nonexistent\/out\.pcap: cannot create it: no such file or directory\n$/],
  ['bad -F', ['read', '-r', dns, '-w', '/tmp/x', '-F', 'erf'], 2, /^netkit read: Expected --file-format=erf to be one of: pcap, pcapng/],
  ['http-log without a source', ['http-log'], 2, /^netkit http-log: give a capture file with -r FILE, or an interface to capture on with -i IFACE\n$/],
  ['streams: a filter with -r', ['streams', '-r', dns, 'tcp'], 2, /^netkit streams: a filter expression, -c and --duration go with -i/],
  ['streams: -r and -i', ['streams', '-r', dns, '-i', 'lo'], 2, /^netkit streams: --interface=lo cannot also be provided when using --read/],
  ['streams: unknown interface', ['streams', '-i', 'nosuch0'], 1, /^netkit streams: no such interface: nosuch0 \(netkit interfaces lists them\)\n$/],
]

for (const [name, args, code, pattern] of cases) {
  test(`${name}: exit ${code}, one line`, async () => {
    const r = await netkit(args)
    assert.equal(r.code, code, r.stderr)
    assert.match(r.stderr, pattern)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.equal(r.stdout, '')
  })
}

test('a closed pipe ends output quietly (netkit read | head)', async () => {
  const r = await netkit(['read', '-r', join(corpus, 'tcpdump', 'mptcp-v0.pcap')])
  assert.equal(r.code, 0)
  assert.equal(r.stdout.trim().split('\n').length, 264)
})

test('--help lists the read flags', async () => {
  const r = await netkit(['read', '--help'])
  assert.equal(r.code, 0)
  for (const flag of ['-r, --read', '-c, --count', '-T, --format', '-e, --field', '-x, --hex', '-w, --write', '-F, --file-format', '--nano']) {
    assert.ok(r.stdout.includes(flag), `missing ${flag}`)
  }
})
