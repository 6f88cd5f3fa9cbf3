// A long read gives the event loop turns: a regular file's reads and mapped windows complete at
// once, and without a turn per refill a consumer awaiting batch after batch would run as one
// chain of microtasks, during which Node runs no process.nextTick callback (a stream's per-write
// callbacks, which then piled up for the whole file: -T ndjson's live heap grew 7.6 -> 18.9 MiB
// over 2M packets) and no timer. Checked on both ways of reading a file: read(2) and mapped windows.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { corpus } from '../helpers/cli.js'
import { corpusFiles } from '../helpers/corpus.js'
import { openCaptureFile } from '../../src/pcap/file-reader.js'
import { rangeWriter } from '../../src/pcap/file-window.js'

const noCorpus = corpusFiles().length === 0 && 'the shared corpus is not there'

for (const [how, env] of [['read(2)', { NETKIT_MAP_FILES: '0' }], ['mapped windows', { NETKIT_MAP_FILES: '1', NETKIT_MAP_WINDOW: '4096' }]] as const) {
  const noAddon = how === 'mapped windows' && rangeWriter() === undefined && 'the capture addon (with FileWindow) is not built'
  test(`process.nextTick callbacks and timers run during a read through ${how}`, { skip: noCorpus || noAddon }, async () => {
    const saved = { NETKIT_MAP_FILES: process.env.NETKIT_MAP_FILES, NETKIT_MAP_WINDOW: process.env.NETKIT_MAP_WINDOW }
    Object.assign(process.env, env)
    try {
      const reader = await openCaptureFile(join(corpus, 'tcpdump', 'mptcp-v0.pcap'), { batchSize: 4, bufferSize: 4096 })
      let queued = 0
      let ran = 0
      let timerFired = false
      const timer = setTimeout(() => { timerFired = true }, 0)
      let batches = 0
      let ranBeforeLast = 0
      for await (const batch of reader.batches()) {
        assert.ok(batch.count > 0)
        batches++
        ranBeforeLast = ran
        queued++
        process.nextTick(() => { ran++ })
      }
      clearTimeout(timer)
      assert.ok(batches > 20, `only ${batches} batches`)
      // Callbacks queued early in the read ran while it went on, not only after its end.
      assert.ok(ranBeforeLast > queued / 2, `${ranBeforeLast} of ${queued} nextTick callbacks ran before the last batch`)
      assert.ok(timerFired, 'a 0 ms timer fired during the read')
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v
    }
  })
}
