// `netkit read -r A -w B` (pcap, pcapng, --nano): tshark and capinfos see the same packets,
// bytes and timestamps in B as in A.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { corpus, netkit, needs, tempDir } from '../helpers/cli.js'

const FIELDS = ['frame.number', 'frame.time_epoch', 'frame.len', 'frame.cap_len']

function tshark(file: string, args: string[]): string {
  const r = spawnSync('tshark', ['-n', '-r', file, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 })
  assert.equal(r.status, 0, `tshark -r ${file}: ${r.stderr}`)
  return r.stdout
}

function frames(file: string): string {
  return tshark(file, ['-T', 'fields', ...FIELDS.flatMap((f) => ['-e', f])])
}

/** Hex of every frame's bytes, as tshark dumps them. */
function bytes(file: string): string {
  return tshark(file, ['-x']).replace(/^Frame \(\d+ bytes\):\n/gm, '')
}

/** capinfos' packet count, data size and first/last times, machine-readable. */
function capinfos(file: string): Record<string, string> {
  const r = spawnSync('capinfos', ['-T', '-m', '-r', '-c', '-d', '-a', '-e', '-S', file], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  const [, ...cols] = r.stdout.trim().split(',')
  return { packets: cols[0], bytes: cols[1], first: cols[2], last: cols[3] }
}

const sources = [
  join(corpus, 'tcpdump', 'tcp-handshake-nano.pcap'), // nanosecond, LINUX_SLL
  join(corpus, 'tcpdump', 'mptcp-v0.pcap'),
  join(corpus, 'tcpdump', 'dns_udp.pcap'),
  join(corpus, 'tcpdump', 'LINKTYPE_RAW_ipv4.pcap'),
  join(corpus, 'tcpdump', 'time_2038_overflow.pcap'),
  join(corpus, 'pcapng', 'output_le', 'basic', 'test004.pcapng'), // two interfaces, snaplens
]

for (const src of sources) {
  for (const [label, extra] of [['pcap', []], ['pcapng', ['-F', 'pcapng']], ['pcap --nano', ['--nano']], ['pcapng --nano', ['-F', 'pcapng', '--nano']]] as const) {
    test(`round trip ${basename(src)} -> ${label}`, { skip: needs('tshark', 'capinfos') }, async (t) => {
      const { dir, cleanup } = tempDir()
      t.after(cleanup)
      const out = join(dir, 'out')
      const r = await netkit(['read', '-r', src, '-w', out, ...extra])
      if (label.startsWith('pcap') && !label.startsWith('pcapng') && src.endsWith('test004.pcapng')) {
        // Two link types cannot share a classic pcap file: a clear refusal, exit 2.
        const lt = spawnSync('tshark', ['-r', src, '-T', 'fields', '-e', 'frame.encap_type'], { encoding: 'utf8' }).stdout
        if (new Set(lt.trim().split('\n')).size > 1) {
          assert.equal(r.code, 2)
          assert.match(r.stderr, /more than one link type.*-F pcapng/)
          return
        }
      }
      assert.equal(r.stderr, '')
      assert.equal(r.code, 0)
      assert.equal(bytes(out), bytes(src))
      const nano = extra.includes('--nano' as never)
      const want = frames(src)
      const got = frames(out)
      if (nano) assert.equal(got, want)
      else {
        // Microsecond output: the same times cut to whole microseconds.
        const toMicro = (s: string) => s.replace(/\.(\d{6})\d{3}\t/g, '.$1000\t')
        assert.equal(got, toMicro(want))
      }
      const a = capinfos(src)
      const b = capinfos(out)
      assert.equal(b.packets, a.packets)
      assert.equal(b.bytes, a.bytes)
      // capinfos prints times at the file's precision: compare them as decimals.
  const norm = (v: string) => v.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '')
  if (nano) assert.deepEqual([b.first, b.last].map(norm), [a.first, a.last].map(norm))
    })
  }
}

test('--nano keeps nanoseconds that plain pcap output cuts', { skip: needs('tshark') }, async (t) => {
  const { dir, cleanup } = tempDir()
  t.after(cleanup)
  const src = join(corpus, 'tcpdump', 'tcp-handshake-nano.pcap')
  await netkit(['read', '-r', src, '-w', join(dir, 'micro.pcap')])
  await netkit(['read', '-r', src, '-w', join(dir, 'nano.pcap'), '--nano'])
  assert.equal(readFileSync(join(dir, 'nano.pcap')).readUInt32LE(0), 0xa1b23c4d)
  assert.equal(readFileSync(join(dir, 'micro.pcap')).readUInt32LE(0), 0xa1b2c3d4)
  assert.match(frames(join(dir, 'nano.pcap')), /1418145369\.924505488/)
  assert.match(frames(join(dir, 'micro.pcap')), /1418145369\.924505000/)
})

test('reads standard input with -r -', async () => {
  const src = join(corpus, 'tcpdump', 'dns_udp.pcap')
  const viaFile = await netkit(['read', '-r', src, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.len'])
  const viaStdin = await netkit(['read', '-r', '-', '-T', 'fields', '-e', 'frame.number', '-e', 'frame.len'], { input: readFileSync(src) })
  assert.equal(viaStdin.code, 0, viaStdin.stderr)
  assert.ok(viaFile.stdout.length > 0)
  assert.equal(viaStdin.stdout, viaFile.stdout)
})

test('-c N stops after N packets; -w - writes a file to stdout', async () => {
  const src = join(corpus, 'tcpdump', 'ssh.pcap')
  const r = await netkit(['read', '-r', src, '-c', '3', '-T', 'fields', '-e', 'frame.number'])
  assert.equal(r.stdout, '1\n2\n3\n')
  const w = await netkit(['read', '-r', src, '-c', '2', '-w', '-'])
  assert.equal(w.code, 0)
  const back = await netkit(['read', '-r', '-', '-T', 'fields', '-e', 'frame.number'], { input: w.stdoutBytes })
  assert.equal(back.stdout, '1\n2\n')
})
