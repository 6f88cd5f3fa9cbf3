/**
 * HTTP messages as tshark finds them in a capture (reassembly on) and as `netkit http-log`
 * reconstructs them, and the assertion that the two agree: same requests (stream, method, URI,
 * host) and same responses (stream, status, Content-Length).
 */
import assert from 'node:assert/strict'
import { netkit, run } from './cli.js'

/** One HTTP message as compared. */
export interface Message { stream: string; method: string; uri: string; host: string; status: string; length: string }

/**
 * Requests and responses as tshark finds them (reassembly on), in frame order. `httpPorts` are
 * decoded as HTTP (`-d`), so no other dissector registered for a port can claim a stream.
 */
export async function tsharkMessages(file: string, httpPorts: number[] = []): Promise<{ requests: Message[]; responses: Message[] }> {
  const fields = ['tcp.stream', 'http.request.method', 'http.request.uri', 'http.host', 'http.response.code', 'http.content_length_header']
  // A frame may complete several messages (pipelining): take every occurrence, in order.
  const decodeAs = httpPorts.flatMap((p) => ['-d', `tcp.port==${p},http`])
  const r = await run('tshark', ['-n', '-r', file, ...decodeAs, '-Y', 'http', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', ...fields.flatMap((f) => ['-e', f])], { timeoutMs: 120_000 })
  assert.equal(r.code, 0, r.stderr)
  const requests: Message[] = []
  const responses: Message[] = []
  // Lines keep their trailing empty columns (no trim of the whole output).
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue
    const cols = line.split('\t')
    const [stream, methods, uris, hosts, statuses, lengths] = fields.map((_, i) => (cols[i] ?? '').split('|'))
    methods.forEach((method, i) => { if (method) requests.push({ stream: stream[0], method, uri: uris[i], host: hosts[i] ?? '', status: '', length: '' }) })
    // Content-Length values belong to requests and responses alike; responses own the last ones.
    const respLengths = lengths.slice(Math.max(0, lengths.length - statuses.filter(Boolean).length))
    statuses.forEach((status, i) => {
      if (status && !status.startsWith('1')) responses.push({ stream: stream[0], method: '', uri: '', host: '', status, length: respLengths[i] ?? '' })
    })
  }
  return { requests, responses }
}

/** `netkit http-log -r file --json`, one object per transaction. */
export async function netkitLog(file: string): Promise<Array<Record<string, unknown>>> {
  const r = await netkit(['http-log', '-r', file, '--json'], { timeoutMs: 120_000 })
  assert.equal(r.code, 0, r.stderr)
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
}

/**
 * Asserts that netkit finds every request and response tshark finds in `file`, with the same
 * fields, and no others; returns netkit's log for further checks.
 */
export async function assertHttpLogMatchesTshark(file: string, minRequests: number, httpPorts: number[] = []): Promise<Array<Record<string, unknown>>> {
  const ref = await tsharkMessages(file, httpPorts)
  const log = await netkitLog(file)
  assert.ok(ref.requests.length >= minRequests, `expected at least ${minRequests} requests, tshark found ${ref.requests.length}`)
  const key = (m: Message) => `${m.stream} ${m.method} ${m.uri} ${m.host}`
  const ours = log.map((t) => `${t.stream} ${t.method} ${t.uri} ${t.host ?? ''}`)
  assert.deepEqual([...ours].sort(), ref.requests.map(key).sort())
  const ourResponses = log.filter((t) => t.status !== null).map((t) => `${t.stream} ${t.status} ${t.content_length_header ?? ''}`)
  assert.deepEqual(ourResponses.sort(), ref.responses.map((m) => `${m.stream} ${m.status} ${m.length}`).sort())
  return log
}
