/**
 * The shared conformance tool (../shared/tools/compare-filter.py) run through the real CLI:
 * every expression of the starter set must select exactly the packets tcpdump selects, or be
 * rejected by both. The files: every Ethernet packet of the corpus merged into one capture (one
 * spawn per expression instead of one per file), and a Linux cooked capture.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { LinkType } from '../../src/pcap/link-types.js'
import { corpus, needs, root, run, tempDir } from '../helpers/cli.js'
import { corpusFiles } from '../helpers/corpus.js'
import { readPcapRecords, writePcap, type Rec } from './packets.js'

const tool = join(corpus, '..', 'tools', 'compare-filter.py')
const tmp = tempDir('netkit-filter-sample-')
after(() => tmp.cleanup())

test('compare-filter.py: the starter expressions agree with tcpdump on corpus files', {
  skip: needs('tcpdump', 'python3') || (!existsSync(tool) && 'needs ../shared/tools/compare-filter.py') || (corpusFiles('tcpdump').length === 0 && 'needs the shared corpus'),
  timeout: 170_000,
}, async () => {
  const ether: Rec[] = []
  for (const f of corpusFiles('tcpdump').filter((n) => n.endsWith('.pcap'))) {
    const { linkType, recs } = readPcapRecords(readFileSync(f))
    if (linkType === LinkType.EN10MB) ether.push(...recs)
  }
  const merged = join(tmp.dir, 'corpus-ether.pcap')
  writePcap(merged, LinkType.EN10MB, ether)
  const files = [merged, join(corpus, 'tcpdump', 'tcp-handshake-nano.pcap')]
  const r = await run('python3', [tool, '--netkit', `${process.execPath} ${join(root, 'bin', 'run.js')}`, '--exprs', join(corpus, '..', 'tools', 'filters-sample.txt'), ...files], { timeoutMs: 170_000 })
  const summary = /filters agree: (\d+)\/(\d+)/.exec(r.stdout)
  assert.ok(summary, `no summary from compare-filter.py:\n${r.stdout}\n${r.stderr}`)
  assert.ok(Number(summary[2]) >= 2 * 20)
  assert.equal(summary[1], summary[2], r.stdout)
})
