/**
 * Community ID v1 against the specification's published vectors (test/data/fixtures/
 * community-id, from corelight/community-id-spec): every tuple of the default-seed and seed-1
 * baselines, and end to end: the flows `netkit export` writes for the spec's own captures carry
 * the IDs the baseline gives their tuples.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { communityId } from '../../src/export/community-id.js'
import { netkit, root, tempDir } from '../helpers/cli.js'

const fixtures = join(root, 'test', 'data', 'fixtures', 'community-id')

interface Vector { proto: number; saddr: string; daddr: string; sport: number | null; dport: number | null; communityid: string }

function addressBytes(a: string): Uint8Array {
  if (isIP(a) === 4) return Uint8Array.from(a.split('.').map(Number))
  const [head, tail = ''] = a.split('::')
  const words = (s: string) => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)))
  const h = words(head)
  const t = words(tail)
  const all = a.includes('::') ? [...h, ...new Array(8 - h.length - t.length).fill(0), ...t] : h
  return Uint8Array.from(all.flatMap((w) => [w >> 8, w & 0xff]))
}

function vectors(name: string): Vector[] {
  return JSON.parse(readFileSync(join(fixtures, name), 'utf8')) as Vector[]
}

for (const [file, seed] of [['baseline_deflt.json', 0], ['baseline_seed1.json', 1]] as const) {
  test(`community_id equals every vector of ${file} (seed ${seed})`, () => {
    const vs = vectors(file)
    assert.ok(vs.length >= 20)
    for (const v of vs) {
      const got = communityId({ src: addressBytes(v.saddr), dst: addressBytes(v.daddr), proto: v.proto, sport: v.sport ?? 0, dport: v.dport ?? 0 }, seed)
      assert.equal(got, v.communityid, `${v.proto} ${v.saddr}:${v.sport} -> ${v.daddr}:${v.dport}`)
    }
  })
}

test('exported flows of the spec captures carry the baseline community_id', async () => {
  const { dir, cleanup } = tempDir()
  try {
    const out = join(dir, 'ds')
    const r = await netkit(['export', '-q', '-r', join(fixtures, 'tcp.pcap'), '-r', join(fixtures, 'udp.pcap'), '-r', join(fixtures, 'ipv6.pcap'), '-o', out])
    assert.equal(r.code, 0, r.stderr)
    const q = await netkit(['query', out, 'SELECT orig_h, orig_p, resp_h, resp_p, proto, community_id FROM flows', '--json'])
    assert.equal(q.code, 0, q.stderr)
    const flows = q.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string | number>)
    const expected = new Map(vectors('baseline_deflt.json').map((v) => [`${v.proto} ${v.saddr} ${v.sport} ${v.daddr} ${v.dport}`, v.communityid]))
    const checked = flows.filter((f) => f.proto === 'tcp' || f.proto === 'udp')
    assert.ok(checked.length >= 3, `flows: ${q.stdout}`)
    for (const f of checked) {
      const key = `${f.proto === 'tcp' ? 6 : 17} ${f.orig_h} ${f.orig_p} ${f.resp_h} ${f.resp_p}`
      assert.ok(expected.has(key), `no vector for ${key}`)
      assert.equal(f.community_id, expected.get(key), key)
    }
  } finally {
    cleanup()
  }
})
