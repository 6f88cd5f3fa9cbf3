/**
 * `netkit export` and `netkit query` on real captures made here (HTTP through nginx and
 * node:http with curl, DNS through dnsmasq with dig): DuckDB (the library, directly) and,
 * independently, hyparquet (a JavaScript Parquet reader) count packets equal to capinfos, TCP
 * and UDP flows equal to tshark's conversation tables, HTTP rows equal to tshark's requests;
 * exporting again adds nothing; `netkit query` gives the library's numbers; bad input is one
 * line and the right exit status.
 */
import { before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { netkit, needs, root, sh, tempDir } from '../helpers/cli.js'
import { httpCapture } from '../helpers/http-capture.js'
import { isRoot } from '../helpers/servers.js'
import { dnsCapture } from './dns-capture.js'

const skip = !isRoot() ? 'needs root to capture on loopback' : needs('tcpdump', 'tshark', 'capinfos', 'nginx', 'curl', 'dig', 'dnsmasq')

let dir = ''
let cleanup = () => {}
let files: string[] = []
let ds = ''

before(async () => {
  if (skip) return
  ;({ dir, cleanup } = tempDir())
  files = [await httpCapture(dir), await dnsCapture(dir)]
  ds = join(dir, 'dataset')
  const r = await netkit(['export', '-r', files[0], '-r', files[1], '-o', ds, '-e', 'http.host'])
  assert.equal(r.code, 0, r.stderr)
})
after(() => cleanup())

/** Rows of SQL run by the DuckDB library itself over the dataset's files. */
async function duck(sql: string): Promise<Record<string, unknown>[]> {
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  try {
    for (const t of ['packets', 'flows', 'http']) {
      await c.run(`CREATE VIEW ${t} AS SELECT * FROM read_parquet('${join(ds, t)}/**/*.parquet', hive_partitioning = true)`)
    }
    const rows = (await c.runAndReadAll(sql)).getRowObjectsJS()
    return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])))
  } finally {
    c.closeSync()
  }
}

/** Every Parquet file of a table, read by hyparquet: the given columns of every row. */
async function hyparquetRows(table: string, columns: string[]): Promise<Record<string, unknown>[]> {
  const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet')
  const out: Record<string, unknown>[] = []
  const walk = async (d: string): Promise<void> => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) await walk(p)
      else if (name.endsWith('.parquet')) out.push(...await parquetReadObjects({ file: await asyncBufferFromFile(p), columns }))
    }
  }
  await walk(join(ds, table))
  return out
}

function capinfosCount(file: string): number {
  return Number(/Number of packets:\s+(\d+)/.exec(sh('capinfos', ['-c', '-M', file]))![1])
}

/** Conversations in `tshark -q -z conv,PROTO`. */
function tsharkConversations(file: string, proto: 'tcp' | 'udp'): number {
  return sh('tshark', ['-n', '-r', file, '-q', '-z', `conv,${proto}`]).split('\n').filter((l) => l.includes('<->')).length
}

/** HTTP requests tshark finds, with HTTP decoded on the given server ports. */
function tsharkRequests(file: string, ports: number[]): number {
  const decode = ports.flatMap((p) => ['-d', `tcp.port==${p},http`])
  return sh('tshark', ['-n', '-r', file, ...decode, '-Y', 'http.request', '-T', 'fields', '-e', 'frame.number']).split('\n').filter(Boolean).length
}

const oracle = new Map<string, { packets: number; tcp: number; udp: number }>()
/** capinfos' and tshark's counts for a file (computed once). */
function expected(file: string) {
  if (!oracle.has(file)) oracle.set(file, { packets: capinfosCount(file), tcp: tsharkConversations(file, 'tcp'), udp: tsharkConversations(file, 'udp') })
  return oracle.get(file)!
}

test('packets, TCP and UDP flows and HTTP rows equal capinfos and tshark, read by DuckDB and by hyparquet', { skip }, async () => {
  const byDuck = await duck('SELECT capture_file, count(*) AS n FROM packets GROUP BY ALL')
  const flowsDuck = await duck('SELECT capture_file, proto, count(*) AS n FROM flows GROUP BY ALL')
  const hyPackets = await hyparquetRows('packets', ['capture_file'])
  const hyFlows = await hyparquetRows('flows', ['capture_file', 'proto'])
  for (const file of files) {
    const name = basename(file)
    const want = expected(file)
    assert.ok(want.packets > 20, `${name}: ${want.packets} packets`)
    assert.equal(byDuck.find((r) => r.capture_file === name)?.n, want.packets, `${name}: packets (DuckDB)`)
    assert.equal(hyPackets.filter((r) => r.capture_file === name).length, want.packets, `${name}: packets (hyparquet)`)
    for (const proto of ['tcp', 'udp'] as const) {
      assert.equal(flowsDuck.find((r) => r.capture_file === name && r.proto === proto)?.n ?? 0, want[proto], `${name}: ${proto} flows (DuckDB)`)
      assert.equal(hyFlows.filter((r) => r.capture_file === name && r.proto === proto).length, want[proto], `${name}: ${proto} flows (hyparquet)`)
    }
  }
  const dns = basename(files[1])
  assert.ok(expected(files[1]).udp >= 4 && expected(files[1]).tcp >= 2, 'the DNS capture has UDP and TCP flows')
  // HTTP: one row per request tshark sees, on the servers' ports.
  const ports = (await duck(`SELECT DISTINCT resp_p FROM flows WHERE proto = 'tcp' AND capture_file <> '${dns}'`)).map((r) => Number(r.resp_p))
  const requests = tsharkRequests(files[0], ports)
  assert.ok(requests >= 10, `${requests} requests`)
  assert.equal((await duck('SELECT count(*) AS n FROM http'))[0].n, requests, 'http rows (DuckDB)')
  assert.equal((await hyparquetRows('http', ['method'])).length, requests, 'http rows (hyparquet)')
  // The http rows name their connections, and the -e column is there.
  const joined = await duck('SELECT count(*) AS n FROM http JOIN flows USING (uid)')
  assert.equal(joined[0].n, requests)
  const hosts = await duck('SELECT count(*) AS n FROM packets WHERE http_host IS NOT NULL')
  assert.equal(hosts[0].n, requests)
})

test('exporting the same files again adds nothing; a new file adds its parts', { skip }, async () => {
  const count = async () => (await duck('SELECT (SELECT count(*) FROM packets) AS p, (SELECT count(*) FROM flows) AS f, (SELECT count(*) FROM http) AS h'))[0]
  const before = await count()
  const again = await netkit(['export', '-r', files[0], '-r', files[1], '-o', ds, '-e', 'http.host'])
  assert.equal(again.code, 0, again.stderr)
  assert.match(again.stderr, /already in the dataset, skipped/)
  assert.deepEqual(await count(), before)
  const more = await netkit(['export', '-q', '-r', join(root, 'test', 'data', 'fixtures', 'community-id', 'udp.pcap'), '-o', ds])
  assert.equal(more.code, 0, more.stderr)
  const after = await count()
  assert.deepEqual([after.p, after.f, after.h], [Number(before.p) + 2, Number(before.f) + 1, before.h])
})

test('a file cut into many chunks, converted by one DuckDB database after another, gives the same rows', { skip }, async () => {
  const small = join(dir, 'chunked')
  // A new database every ~3 chunks (160 MiB of CSV otherwise: the recycling in dataset.ts).
  const env = { ...process.env, NETKIT_EXPORT_CHUNK_BYTES: '2000', NETKIT_EXPORT_RECYCLE_BYTES: '6000' }
  const r = await netkit(['export', '-q', '-r', files[0], '-o', small, '-e', 'http.host'], { env })
  assert.equal(r.code, 0, r.stderr)
  const parts = (t: string) => readdirSync(join(small, t), { recursive: true }).filter((f) => String(f).endsWith('.parquet')).length
  assert.ok(parts('packets') > 3 && parts('http') >= 1, `${parts('packets')} packets parts, ${parts('http')} http parts`)
  const name = basename(files[0])
  const sql = (d: string) => `SELECT (SELECT count(*) FROM read_parquet('${d}/packets/**/*.parquet') WHERE capture_file = '${name}') AS p,
    (SELECT count(DISTINCT frame_number) FROM read_parquet('${d}/packets/**/*.parquet') WHERE capture_file = '${name}') AS pd,
    (SELECT count(*) FROM read_parquet('${d}/flows/**/*.parquet') WHERE capture_file = '${name}') AS f,
    (SELECT count(*) FROM read_parquet('${d}/http/**/*.parquet') WHERE capture_file = '${name}') AS h`
  const [a] = await duck(sql(small))
  const [b] = await duck(sql(ds))
  assert.deepEqual(a, b)
  assert.equal(a.p, a.pd)
})

test('netkit query gives the same numbers as the DuckDB library', { skip }, async () => {
  for (const sql of [
    'SELECT (SELECT count(*) FROM packets) AS packets, (SELECT sum(frame_len) FROM packets) AS bytes, (SELECT count(*) FROM http WHERE status_code = 200) AS ok',
    'SELECT proto, conn_state, count(*) AS n, sum(orig_pkts + resp_pkts) AS pkts FROM flows GROUP BY ALL ORDER BY ALL',
  ]) {
    const q = await netkit(['query', ds, sql, '--json'])
    assert.equal(q.code, 0, q.stderr)
    const got = q.stdout.trim().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(got, await duck(sql), sql)
  }
  const csv = await netkit(['query', ds, 'SELECT proto, count(*) AS n FROM flows GROUP BY ALL ORDER BY ALL', '--csv'])
  assert.equal(csv.code, 0, csv.stderr)
  const lib = await duck('SELECT proto, count(*) AS n FROM flows GROUP BY ALL ORDER BY ALL')
  assert.equal(csv.stdout, ['proto,n', ...lib.map((r) => `${r.proto},${r.n}`)].join('\n') + '\n')
})

test('bad input: SQL errors exit 2 with DuckDB\'s message; missing files and flags are one line', { skip }, async () => {
  const bad = await netkit(['query', ds, 'SELECT no_such_column FROM flows'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /^netkit query: Binder Error: .*no_such_column/)
  assert.equal(bad.stderr.trim().split('\n').length, 1)
  const missing = await netkit(['export', '-r', join(dir, 'nope.pcap'), '-o', join(dir, 'x')])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /nope\.pcap: no such file/)
  const noOut = await netkit(['export', '-r', files[0]])
  assert.equal(noOut.code, 2)
  assert.match(noOut.stderr, /-o DIR/)
})
