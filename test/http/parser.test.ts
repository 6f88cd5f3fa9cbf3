/**
 * ResponseParser in process: a stream of pipelined responses gives the same events whichever
 * two pieces it arrives in (every cut point), and a malformed head is refused whether or not it
 * is whole, and only once the line at fault is complete.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ResponseParser, type ResponseParserOwner } from '../../src/http/response-parser.js'

/** Records what the parser reports, as lines. */
function recorder(): { owner: ResponseParserOwner; events: string[]; parser: ResponseParser } {
  const events: string[] = []
  let body = 0
  const owner: ResponseParserOwner = {
    onMessageStart: () => true,
    expectsNoBody: () => false,
    onInterim: (status) => events.push(`interim ${status}`),
    onHead: (block, start, end) => {
      body = 0
      events.push(`head ${parser.status} len=${parser.contentLength} chunked=${parser.chunked} close=${parser.connectionClose} ka=${parser.keepAliveTimeout} bytes=${end - start} ${block.toString('latin1', start, start + 12)}`)
    },
    onBody: (_chunk, start, end) => { body += end - start },
    onTrailers: (block, start, end) => events.push(`trailers ${block.toString('latin1', start, end).trim()}`),
    onComplete: () => events.push(`complete body=${body}`),
    onParseError: (_kind, message) => events.push(`error ${message}`),
  }
  const parser = new ResponseParser(owner)
  return { owner, events, parser }
}

const stream = Buffer.from([
  'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 17\r\nConnection: keep-alive\r\n\r\nhello from nginx\n',
  'HTTP/1.1 100 Continue\r\n\r\n',
  'HTTP/1.1 404 Not Found\r\nKeep-Alive: timeout=5, max=100\r\ncontent-length: 3\r\n  folded\r\n\r\nno\n',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n4;ext=1\r\nwiki\r\n0\r\nX-Trailer: yes\r\n\r\n',
  '\r\nHTTP/1.0 204 No Content\nConnection: close\n\n',
].join(''), 'latin1')

describe('response parser', () => {
  it('reports the same responses wherever the bytes are cut', () => {
    const whole = recorder()
    whole.parser.feed(stream)
    assert.equal(whole.events.filter((e) => e.startsWith('complete')).length, 4)
    assert.ok(!whole.events.some((e) => e.startsWith('error')), whole.events.join('\n'))
    assert.match(whole.events.join('\n'), /head 404 len=3 chunked=false close=false ka=5/)
    for (let cut = 1; cut < stream.length; cut++) {
      const r = recorder()
      r.parser.feed(Buffer.from(stream.subarray(0, cut)))
      r.parser.feed(Buffer.from(stream.subarray(cut)))
      assert.deepEqual(r.events, whole.events, `cut at ${cut}`)
    }
  })

  it('refuses a malformed head once the faulty line is complete, wherever it is cut', () => {
    const bad = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nBad Header\r\n\r\nok', 'latin1')
    const faultEnd = bad.indexOf('Bad Header\r\n') + 'Bad Header\r\n'.length
    for (let cut = 1; cut < bad.length; cut++) {
      const r = recorder()
      r.parser.feed(Buffer.from(bad.subarray(0, cut)))
      assert.equal(r.events.length, cut >= faultEnd ? 1 : 0, `cut at ${cut}: ${r.events.join('; ')}`)
      r.parser.feed(Buffer.from(bad.subarray(cut)))
      assert.deepEqual(r.events, ["error malformed header line 'Bad Header'"], `cut at ${cut}`)
    }
    const r = recorder()
    r.parser.feed(Buffer.from('HTTP/1.1 2xx OK\r\n\r\n', 'latin1'))
    assert.match(r.events[0], /^error malformed status line/)
  })
})
