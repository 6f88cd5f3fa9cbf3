// bin/run.js's fast path reads a `netkit read` command line exactly as oclif's parser does, or
// leaves it to oclif: checked against oclif's own parse of the read command on many lines, and
// through the CLI for help and flag errors, which must stay oclif's.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Parser } from '@oclif/core'
import Read from '../../src/commands/read.js'
import { FAST_COMMANDS, parseFast } from '../../src/cli/fast-path.js'
import { filterExpression } from '../../src/cli/filter-expression.js'
import { corpus, netkit, root } from '../helpers/cli.js'

const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, { flags: Record<string, never> }> }
const traits = FAST_COMMANDS.read

const lines: string[][] = [
  ['-r', 'a.pcap'],
  ['-r', 'a.pcap', 'tcp', 'port', '80'],
  ['--read', 'a.pcap', '-w', 'b.pcap', 'host', 'a', 'or', 'host', 'b'],
  ['--read=a.pcap', '--write=-', '-F', 'pcapng', '--nano'],
  ['-r', '-', '-c', '10', '-x'],
  ['-r', 'a.pcap', '-T', 'fields', '-e', 'ip.src', '-e', 'tcp.dstport', 'tcp'],
  ['-r', 'a.pcap', '-e', 'ip.src', 'udp', '-e', 'udp.port'],
  ['-r', 'a.pcap', '-Y', 'http.request.method == "GET"', '-T', 'ndjson'],
  ['-r', 'a.pcap', '--config', 'x.json', '--hex', 'ip'],
  ['-c', '007', '-r', 'a.pcap'],
  // Lines the fast path must leave to oclif (help, errors, forms it does not take).
  ['-r', 'a.pcap', '--help'],
  ['-h'],
  ['-r', 'a.pcap', '-c', '0'],
  ['-r', 'a.pcap', '-c', 'x'],
  ['-r', 'a.pcap', '-T', 'bogus'],
  ['-r', 'a.pcap', '-r', 'b.pcap'],
  ['-w', 'b.pcap'],
  ['-r'],
  ['-r', 'a.pcap', '--', 'tcp'],
  ['-r', 'a.pcap', '--no-hex'],
  ['-r', 'a.pcap', '-xn'],
  ['-ra.pcap'],
  ['-r', 'a.pcap', '--bogus'],
  ['-r', 'a.pcap', '-w', '-c'],
  ['-r', 'a.pcap', '--read='],
]

test('the fast path parses a read line as oclif does, or leaves it to oclif', async () => {
  let fast = 0
  for (const line of lines) {
    const mine = parseFast(line, manifest.commands.read.flags, traits)
    if (mine === undefined) continue
    fast++
    const theirs = await Parser.parse(line, { flags: Read.flags, args: Read.args, strict: false })
    assert.deepEqual(mine.flags, theirs.flags, line.join(' '))
    assert.equal(mine.args.join(' ').trim(), filterExpression(theirs.raw), line.join(' '))
  }
  assert.equal(fast, 10, 'the first ten lines are fast-path lines')
})

test('help and flag errors are still oclif\'s', async () => {
  const help = await netkit(['read', '--help'])
  assert.equal(help.code, 0)
  assert.match(help.stdout, /USAGE[\s\S]*--read/)
  const bad = await netkit(['read', '-r', join(corpus, 'tcpdump', 'dns_udp.pcap'), '-c', '0'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /^netkit read: .*count.*\(see netkit read --help\)\n$/)
  const missing = await netkit(['read', '-r', join(corpus, 'tcpdump', 'no-such-file.pcap')])
  assert.notEqual(missing.code, 0)
  assert.match(missing.stderr, /^netkit read: .*no-such-file\.pcap/)
  assert.equal(missing.stderr.split('\n').length, 2, 'one line')
})
