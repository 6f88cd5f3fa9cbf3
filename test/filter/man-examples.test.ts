/**
 * Every expression of tcpdump(1)'s EXAMPLES section, as the man page writes it (host names
 * sundown, helios, hot, ace; networks ucb-ether and localnet; gateway snup), through the shared
 * tool ../shared/tools/compare-filter.py: netkit's CLI must select tcpdump's packets, or both
 * refuse (libpcap built with IPv6 refuses `gateway`). The names resolve through /etc/hosts and
 * /etc/networks; the test binds its own copies over them in a private mount namespace
 * (unshare(1)), so tcpdump and netkit both see them and the machine's /etc is never written.
 * The capture: pings, IPv6 fragments and hop-by-hop reports between two network namespaces,
 * merged with the corpus's Ethernet packets (HTTP on port 80, SYNs and FINs, ICMP errors).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { LinkType } from '../../src/pcap/link-types.js'
import { corpus, needs, root, tempDir } from '../helpers/cli.js'
import { corpusFiles } from '../helpers/corpus.js'
import { captureTunnels, labSkip } from '../wire/tunnel-lab.js'
import { readPcapRecords, writePcap, type Rec } from './packets.js'

/** tcpdump(1) EXAMPLES, verbatim but for the shell's quoting. */
const EXAMPLES = [
  'host sundown',
  'host helios and ( hot or ace )',
  'ip host ace and not helios',
  'net ucb-ether',
  'gateway snup and (port ftp or ftp-data)',
  'ip and not net localnet',
  'tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 and not src and dst net localnet',
  'tcp[tcpflags] & (tcp-rst|tcp-ack) == (tcp-rst|tcp-ack)',
  'tcp port 80 and (((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)',
  'gateway snup and ip[2:2] > 576',
  'ether[0] & 1 = 0 and ip[16] >= 224',
  'icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply',
]

/**
 * The names, on the lab's underlay (10.199.0.1 and .2, fd99:199::1 and ::2). glibc pads a
 * network number to four parts (`10.199` is 10.199.0.0) and libpcap then tests that one address,
 * so the networks are written as the hosts they end up matching; netkit reads them the same way.
 */
const HOSTS = ['10.199.0.2 sundown hot ace', '10.199.0.1 helios', 'fd99:199::2 ace']
const NETWORKS = ['ucb-ether 10.199.0.2', 'localnet 10.199.0.1']

const tool = join(corpus, '..', 'tools', 'compare-filter.py')
const tmp = tempDir('netkit-filter-examples-')
after(() => tmp.cleanup())

function skipReason(): string | false {
  const lab = labSkip()
  if (lab) return lab
  if (!existsSync(tool)) return 'needs ../shared/tools/compare-filter.py'
  if (corpusFiles('tcpdump').length === 0) return 'needs the shared corpus'
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true'])
  if (probe.status !== 0) return `needs unshare(1) with mount namespaces: ${String(probe.stderr).trim()}`
  return needs('tcpdump', 'python3', 'unshare', 'mount')
}

test('tcpdump(1) EXAMPLES, with their host and network names, agree with tcpdump through compare-filter.py', { skip: skipReason(), timeout: 170_000 }, async () => {
  const lab = await captureTunnels(join(tmp.dir, 'lab.pcap'), [])
  const recs: Rec[] = [...readPcapRecords(readFileSync(lab.file)).recs]
  for (const f of corpusFiles('tcpdump').filter((n) => n.endsWith('.pcap'))) {
    const r = readPcapRecords(readFileSync(f))
    if (r.linkType === LinkType.EN10MB) recs.push(...r.recs)
  }
  const capture = join(tmp.dir, 'examples.pcap')
  writePcap(capture, LinkType.EN10MB, recs)
  const hosts = join(tmp.dir, 'hosts')
  const networks = join(tmp.dir, 'networks')
  const exprs = join(tmp.dir, 'examples.txt')
  writeFileSync(hosts, `${readFileSync('/etc/hosts', 'utf8')}\n${HOSTS.join('\n')}\n`)
  writeFileSync(networks, `${existsSync('/etc/networks') ? readFileSync('/etc/networks', 'utf8') : ''}\n${NETWORKS.join('\n')}\n`)
  writeFileSync(exprs, `${EXAMPLES.join('\n')}\n`)
  // Inside the namespace: compare-filter.py, then how many packets tcpdump selects for each
  // example (to show the comparison is not of empty sets).
  const script = [
    `mount --bind ${hosts} /etc/hosts`, `mount --bind ${networks} /etc/networks`,
    `python3 ${tool} --netkit '${process.execPath} ${join(root, 'bin', 'run.js')}' --exprs ${exprs} ${capture}`,
    `while read -r e; do echo "count $(tcpdump -r ${capture} -n "$e" 2>/dev/null | wc -l) $e"; done < ${exprs}`,
  ].join(' && ')
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 160_000 })
  assert.equal(r.status, 0, r.stderr)
  const summary = /filters agree: (\d+)\/(\d+)/.exec(r.stdout)
  assert.ok(summary, `no summary from compare-filter.py:\n${r.stdout}\n${r.stderr}`)
  assert.equal(`${summary[1]}/${summary[2]}`, `${EXAMPLES.length}/${EXAMPLES.length}`, r.stdout)
  const counts = new Map([...r.stdout.matchAll(/^count (\d+) (.*)$/gm)].map((m) => [m[2], Number(m[1])]))
  for (const e of ['host sundown', 'host helios and ( hot or ace )', 'net ucb-ether', 'ip and not net localnet',
    'tcp port 80 and (((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)', 'tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 and not src and dst net localnet']) {
    assert.ok((counts.get(e) ?? 0) > 0, `tcpdump selects nothing for '${e}': ${r.stdout}`)
  }
})
