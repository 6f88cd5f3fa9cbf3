/**
 * `netkit capture` options on a veth pair: kernel filters (expression and --bpf-file), -Q, -s,
 * live text output; `netkit interfaces` against `ip -j link`; and the error lines and exit
 * statuses for what cannot work (unknown interface, no permission, bad flags).
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { have, netkit, root, run, tempDir, tsharkFields } from '../helpers/cli.js'
import { captureSkip, createVethPair, endCounts, startCapture } from './netns.js'

const skip = captureSkip()
const sender = join(root, 'test', 'capture', 'fixtures', 'send-frames.py')

test('a filter expression runs in the kernel: only matching frames, VLAN tags tested through metadata', { skip }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  const file = join(tmp.dir, 'vlan42.pcap')
  const cap = await startCapture(pair, ['-i', pair.iface, '-w', file, 'vlan', '42'])
  t.after(() => cap.child.kill('SIGKILL'))
  pair.send(3, 100, ['--vlan', '7'])
  pair.send(4, 100, ['--vlan', '42'])
  pair.send(3, 100)
  cap.child.kill('SIGINT')
  assert.equal((await cap.exited).code, 0, cap.stderr())
  assert.deepEqual(endCounts(cap.stderr()), { captured: 4, received: 4, dropped: 0 }, 'the kernel filter let only VLAN 42 in')
  assert.equal(tsharkFields(file, ['vlan.id']).trim().split('\n').join(','), '42,42,42,42')
})

test('--bpf-file takes tcpdump -dd output; -s truncates; -Q picks a direction', { skip: skip || (!have('tcpdump') && 'needs tcpdump') }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  const prog = join(tmp.dir, 'f.bpf')
  writeFileSync(prog, pair.exec(pair.ns, 'tcpdump', ['-i', pair.iface, '-dd', 'ether proto 0x88b6']))
  const a = join(tmp.dir, 'bpf.pcap')
  const b = join(tmp.dir, 'in.pcap')
  const c = join(tmp.dir, 'out.pcap')
  const caps = await Promise.all([
    startCapture(pair, ['-i', pair.iface, '-w', a, '--bpf-file', prog, '-s', '50']),
    startCapture(pair, ['-i', pair.iface, '-w', b, '-Q', 'in']),
    startCapture(pair, ['-i', pair.iface, '-w', c, '-Q', 'out']),
  ])
  t.after(() => { for (const cap of caps) cap.child.kill('SIGKILL') })
  pair.send(5, 1000, ['--ethertype', '0x88b6'])
  pair.send(2, 1000)
  pair.exec(pair.ns, 'python3', [sender, pair.iface, '3', '200']) // outgoing from the capture side
  for (const cap of caps) cap.child.kill('SIGINT')
  for (const cap of caps) assert.equal((await cap.exited).code, 0, cap.stderr())
  assert.match(caps[0].stderr(), /snapshot length 50 bytes/)
  assert.equal(tsharkFields(a, ['frame.len', 'frame.cap_len', 'eth.type']).trim(), Array(5).fill('1000\t50\t0x88b6').join('\n'), '-s 50 keeps 50 bytes of the 0x88b6 frames only')
  assert.equal(tsharkFields(b, ['frame.len']).trim().split('\n').join(','), '1000,1000,1000,1000,1000,1000,1000', '-Q in: the 7 frames from the peer')
  assert.equal(tsharkFields(c, ['frame.len']).trim().split('\n').join(','), '200,200,200', '-Q out: the 3 frames sent from this side')
})

test('without -w, packets are printed live in the -T format', { skip }, async (t) => {
  const pair = createVethPair()
  t.after(() => pair.cleanup())
  const cap = await startCapture(pair, ['-i', pair.iface, '-c', '3', '-T', 'fields', '-e', 'frame.number', '-e', 'frame.len', '-e', 'eth.src'])
  t.after(() => cap.child.kill('SIGKILL'))
  pair.send(5, 90)
  const { code } = await cap.exited
  assert.equal(code, 0, cap.stderr())
  assert.equal(cap.stdout(), '1\t90\t02:00:00:00:00:01\n2\t90\t02:00:00:00:00:01\n3\t90\t02:00:00:00:00:01\n')
  assert.equal(endCounts(cap.stderr()).captured, 3, '-c 3 stops after three')
})

test('netkit interfaces lists what ip link shows; a down interface is refused', { skip }, async (t) => {
  const pair = createVethPair()
  t.after(() => pair.cleanup())
  const ours = JSON.parse(pair.exec(pair.ns, process.execPath, [join(root, 'bin', 'run.js'), 'interfaces', '--json'])) as Array<Record<string, unknown>>
  const theirs = JSON.parse(pair.exec(pair.ns, 'ip', ['-j', 'link', 'show'])) as Array<{ ifindex: number; ifname: string; mtu: number; address: string; flags: string[] }>
  assert.deepEqual(ours.map((i) => i.name), theirs.map((i) => i.ifname))
  for (const ip of theirs) {
    const nk = ours.find((i) => i.name === ip.ifname)!
    assert.equal(nk.index, ip.ifindex)
    assert.equal(nk.mtu, ip.mtu)
    if (ip.ifname !== 'lo') assert.equal(nk.mac, ip.address)
    for (const flag of ['UP', 'LOWER_UP', 'LOOPBACK', 'BROADCAST', 'MULTICAST', 'PROMISC']) {
      assert.equal((nk.flags as string[]).includes(flag), ip.flags.includes(flag), `${ip.ifname} ${flag}`)
    }
  }
  assert.equal(ours.find((i) => i.name === pair.iface)!.linkTypeName, 'EN10MB')
  const text = pair.exec(pair.ns, process.execPath, [join(root, 'bin', 'run.js'), 'interfaces'])
  assert.match(text, new RegExp(`^\\d+\\s+${pair.iface}\\s+EN10MB\\s+1500\\s+[0-9a-f:]{17}\\s+\\S*UP`, 'm'))
  assert.match(text, /^-\s+any\s+LINUX_SLL2/m)
  // An interface that is down: one line before anything starts.
  pair.exec(pair.ns, 'ip', ['link', 'set', pair.iface, 'down'])
  const down = await run('ip', ['netns', 'exec', pair.ns, process.execPath, join(root, 'bin', 'run.js'), 'capture', '-i', pair.iface, '-c', '1'])
  assert.equal(down.code, 1)
  assert.equal(down.stderr, `netkit capture: the interface ${pair.iface} is down (ip link set ${pair.iface} up)\n`)
})

test('errors: unknown interface, bad flags, bad filter, no permission', { skip: process.platform !== 'linux' && 'Linux only' }, async () => {
  const unknown = await netkit(['capture', '-i', 'nosuch0', '-c', '1'])
  assert.equal(unknown.code, 1)
  assert.equal(unknown.stderr, 'netkit capture: no such interface: nosuch0 (netkit interfaces lists them)\n')
  const rotate = await netkit(['capture', '-i', 'lo', '-C', '1'])
  assert.equal(rotate.code, 2)
  assert.match(rotate.stderr, /^netkit capture: -C, -G and -W need -w FILE\n$/)
  const filter = await netkit(['capture', '-i', 'lo', 'tcp', 'port'])
  assert.equal(filter.code, 2, filter.stderr)
  assert.equal(filter.stderr.split('\n').length, 2, `one line: ${filter.stderr}`)
  if (process.getuid?.() === 0 && have('setpriv')) {
    // An unprivileged user without CAP_NET_RAW: exit 3 and what to do.
    const r = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, join(root, 'bin', 'run.js'), 'capture', '-i', 'lo', '-c', '1'], { env: { ...process.env, HOME: '/tmp' } })
    assert.equal(r.code, 3, r.stderr)
    assert.match(r.stderr, /^netkit capture: no permission to capture on lo \(socket\(AF_PACKET\): Operation not permitted\) \(run as root, or grant the capability: sudo setcap cap_net_raw,cap_net_admin=eip .*\)\n$/)
  }
})
