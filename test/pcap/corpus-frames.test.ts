// For every file of ../shared/corpus that tshark reads, netkit's frame fields equal tshark's,
// line for line (tshark is the oracle).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { relative } from 'node:path'
import { corpus, netkit, needs } from '../helpers/cli.js'
import { tsharkCorpus, tsharkLines } from '../helpers/tshark-corpus.js'
import { corpusFiles } from '../helpers/corpus.js'

const FIELDS = ['frame.number', 'frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.interface_id']
const files = corpusFiles()

test('the shared corpus is present', { skip: files.length === 0 ? `no ../shared/corpus at ${corpus}` : false }, () => {
  assert.ok(files.length >= 30, `expected the corpus, found ${files.length} files`)
})

// Subtests run three at a time: each spawns netkit (and tshark, once per file for all corpus
// tests) and mostly waits on them.
test('frame fields equal tshark\'s on every corpus file', { skip: needs('tshark'), concurrency: 3 }, async (t) => {
  await Promise.all(files.map((file) => t.test(relative(corpus, file), async () => {
    const ref = await tsharkCorpus(file)
    const got = await netkit(['read', '-r', file, '-T', 'fields', ...FIELDS.flatMap((f) => ['-e', f])])
    if (ref.code !== 0) {
      // tshark rejects the file: netkit must fail cleanly too, never crash.
      assert.notEqual(got.code, 0)
      assert.match(got.stderr, /^netkit read: .+\n$/)
      return
    }
    assert.equal(got.stderr.replace(/^netkit read: warning: .*\n/gm, ''), '')
    assert.equal(got.code, 0)
    assert.deepEqual(got.stdout.split('\n').slice(0, -1), tsharkLines(ref, FIELDS))
  })))
})
