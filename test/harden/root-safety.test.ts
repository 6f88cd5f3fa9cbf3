// Running with privileges (#24): as root netkit loads no configuration found in the working
// folder (a planted .netkitrc.cjs must not run), refuses a group-writable --config, and
// `capture -Z nobody` gives up root once the socket, ring and file are open (as /proc shows).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { corpus, netkit, root, run, tempDir } from '../helpers/cli.js'
import { captureSkip, createVethPair, startCapture } from '../capture/netns.js'

const asRoot = process.getuid?.() === 0 ? false : 'needs root (the rules apply to privileged runs)'
const sample = join(corpus, 'tcpdump', 'dns_udp.pcap')

test('as root, a .netkitrc.cjs in the working folder is not executed and a warning names it', { skip: asRoot }, async () => {
  const { dir, cleanup } = tempDir('netkit-rootcfg-')
  try {
    const marker = join(dir, 'ran')
    const planted = join(dir, '.netkitrc.cjs')
    writeFileSync(planted, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x'); module.exports = { plugins: [] }\n`)
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: join(dir, 'home'), XDG_CONFIG_HOME: '' }
    delete env.SUDO_UID
    const r = await netkit(['read', '-r', sample, '-c', '1'], { cwd: dir, env })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(existsSync(marker), false, 'the planted configuration ran as root')
    const warnings = r.stderr.split('\n').filter((l) => l.includes(planted))
    assert.equal(warnings.length, 1, r.stderr)
    assert.match(warnings[0], /not loading/)
    assert.ok(r.stdout.length > 0)
  } finally {
    cleanup()
  }
})

test('as root, the invoking user\'s own config folder is used, and a group-writable --config is refused', { skip: asRoot }, async () => {
  const { dir, cleanup } = tempDir('netkit-rootcfg-')
  try {
    // The user's folder (~/.config/netkit/config.cjs) is trusted when root owns it, mode 644.
    const home = join(dir, 'home')
    mkdirSync(join(home, '.config', 'netkit'), { recursive: true })
    const marker = join(dir, 'user-config-ran')
    writeFileSync(join(home, '.config', 'netkit', 'config.cjs'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x'); module.exports = { plugins: [] }\n`, { mode: 0o644 })
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: '' }
    delete env.SUDO_UID
    const ok = await netkit(['read', '-r', sample, '-c', '1'], { cwd: dir, env })
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(existsSync(marker), true, 'the user\'s own configuration was not loaded')

    const cfg = join(dir, 'shared.json')
    writeFileSync(cfg, '{"plugins": []}\n')
    chmodSync(cfg, 0o664)
    const refused = await netkit(['read', '-r', sample, '-c', '1', '--config', cfg], { cwd: dir, env })
    assert.equal(refused.code, 2, refused.stderr)
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr)
    assert.match(refused.stderr, /group-writable/)
    assert.ok(refused.stderr.includes(cfg))
    assert.equal(refused.stdout, '')
    chmodSync(cfg, 0o644)
    const accepted = await netkit(['read', '-r', sample, '-c', '1', '--config', cfg], { cwd: dir, env })
    assert.equal(accepted.code, 0, accepted.stderr)
  } finally {
    cleanup()
  }
})

/** The Uid/Gid/Groups/CapEff lines of /proc/PID/status. */
function credentials(pid: number): { uid: string; gid: string; groups: string; capEff: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1')
  const line = (name: string) => (new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '').trim()
  return { uid: line('Uid'), gid: line('Gid'), groups: line('Groups'), capEff: line('CapEff') }
}

test('capture -Z nobody runs as uid 65534 after opening, and writes a valid file; rotation works after the drop', { skip: captureSkip() }, async () => {
  const pair = createVethPair()
  const { dir, cleanup } = tempDir('netkit-dropz-')
  try {
    chmodSync(dir, 0o755)
    const file = join(dir, 'one.pcap')
    const cap = await startCapture(pair, ['-i', pair.iface, '-Z', 'nobody', '-w', file, '-c', '20', 'ether proto 0x88b5'])
    const cred = credentials(cap.child.pid!)
    assert.deepEqual(cred.uid.split(/\s+/), ['65534', '65534', '65534', '65534'])
    assert.ok(cred.gid.split(/\s+/).every((g) => g === cred.gid.split(/\s+/)[0] && g !== '0'), cred.gid)
    assert.ok(!cred.groups.split(/\s+/).includes('0'), `root's groups kept: ${cred.groups}`)
    assert.equal(BigInt(`0x${cred.capEff}`), 0n)
    pair.send(20, 100)
    const end = await cap.exited
    assert.equal(end.code, 0, cap.stderr())
    assert.equal(statSync(file).uid, 65534)
    const check = await netkit(['read', '-r', file, '-T', 'fields', '-e', 'frame.len'])
    assert.equal(check.code, 0, check.stderr)
    assert.equal(check.stdout.trim().split('\n').length, 20)
    const tshark = await run('capinfos', ['-c', '-M', file])
    assert.match(tshark.stdout, /Number of packets:\s+20\b/)

    // -C after the drop: the next files are created by nobody, so the folder must let it.
    const closed = join(dir, 'closed')
    mkdirSync(closed, { mode: 0o755 })
    const refused = await run('ip', ['netns', 'exec', pair.ns, process.execPath, join(root, 'bin', 'run.js'), 'capture', '-i', pair.iface, '-Z', 'nobody', '-w', join(closed, 'r.pcap'), '-C', '1', '-c', '1'])
    assert.equal(refused.code, 2, refused.stderr)
    assert.match(refused.stderr, /nobody cannot create files in/)
    const open = join(dir, 'open')
    mkdirSync(open)
    chmodSync(open, 0o1777)
    const rot = await startCapture(pair, ['-i', pair.iface, '-Z', 'nobody', '-w', join(open, 'r.pcap'), '-C', '1', '-c', '1200', 'ether proto 0x88b5'])
    pair.send(1200, 1000)
    const rotEnd = await rot.exited
    assert.equal(rotEnd.code, 0, rot.stderr())
    const files = ['r.pcap', 'r.pcap1'].map((n) => join(open, n))
    for (const f of files) assert.ok(existsSync(f), `${f} missing: ${rot.stderr()}`)
    assert.equal(statSync(files[1]).uid, 65534)
    const second = await netkit(['read', '-r', files[1], '-T', 'fields', '-e', 'frame.len'])
    assert.equal(second.code, 0, second.stderr)
    assert.ok(second.stdout.trim().split('\n').length > 0)
  } finally {
    pair.cleanup()
    cleanup()
  }
})
