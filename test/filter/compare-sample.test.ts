/**
 * The shared conformance tool (../shared/tools/compare-filter.py) run through the real CLI:
 * every expression of the starter set must select exactly the packets tcpdump selects, on a
 * representative set of corpus captures (Ethernet, Linux cooked, raw IPv4, PPP), or be rejected
 * by both.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { corpus, needs, root, run } from '../helpers/cli.js'

const tool = join(corpus, '..', 'tools', 'compare-filter.py')
const files = ['tcpdump/syslog_udp.pcap', 'tcpdump/icmp-rfc5837.pcap', 'tcpdump/tcp-handshake-nano.pcap', 'tcpdump/LINKTYPE_RAW_ipv4.pcap', 'tcpdump/print-flags.pcap']
  .map((f) => join(corpus, f))

test('compare-filter.py: the starter expressions agree with tcpdump on corpus files', {
  skip: needs('tcpdump', 'python3') || (!existsSync(tool) && 'needs ../shared/tools/compare-filter.py') || (!files.every(existsSync) && 'needs the shared corpus'),
  timeout: 170_000,
}, async () => {
  const r = await run('python3', [tool, '--netkit', `${process.execPath} ${join(root, 'bin', 'run.js')}`, '--exprs', join(corpus, '..', 'tools', 'filters-sample.txt'), ...files], { timeoutMs: 170_000 })
  const summary = /filters agree: (\d+)\/(\d+)/.exec(r.stdout)
  assert.ok(summary, `no summary from compare-filter.py:\n${r.stdout}\n${r.stderr}`)
  assert.ok(Number(summary[2]) > 0)
  assert.equal(summary[1], summary[2], r.stdout)
})
