/**
 * A real HTTP capture for the display-filter tests: curl and node:http clients against nginx and
 * a node:http server on loopback, recorded by tcpdump. It holds GET/HEAD/POST/PUT requests,
 * 200/404/418/304 responses, a response that spans many segments, keep-alive connections and
 * HTTP/1.0. Made once per test process.
 */
import http from 'node:http'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run } from './cli.js'
import { freePort, recordWithTcpdump, startNginx } from './servers.js'

let made: Promise<string> | undefined

/** Records the capture into `dir` (once per process) and returns its path. */
export function httpCapture(dir: string): Promise<string> {
  made ??= record(dir)
  return made
}

async function record(dir: string): Promise<string> {
  const file = join(dir, 'http.pcap')
  const www = join(dir, 'www')
  mkdirSync(www, { recursive: true })
  writeFileSync(join(www, 'index.html'), '<html><p>small</p></html>\n')
  writeFileSync(join(www, 'a.txt'), 'plain text\n')
  writeFileSync(join(www, 'big.txt'), 'line of text\n'.repeat(30000))
  const nginxPort = await freePort()
  const nginx = await startNginx(join(dir, 'nginx'), nginxPort, www)
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.url === '/teapot') { res.writeHead(418, 'I am a teapot', { 'content-type': 'text/plain' }); res.end('short and stout') }
      else { res.writeHead(200, { 'content-type': 'application/json', server: 'node-test' }); res.end('{"ok":true}') }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const nodePort = (server.address() as { port: number }).port
  try {
    await recordWithTcpdump(file, `tcp port ${nginxPort} or tcp port ${nodePort}`, async () => {
      const n = `http://127.0.0.1:${nginxPort}`
      for (const args of [
        [`${n}/index.html`, `${n}/a.txt`, `${n}/nope`],
        [`${n}/big.txt`, `${n}/index.html`],
        ['-I', `${n}/index.html`],
        ['-H', 'If-Modified-Since: Wed, 01 Jan 2200 00:00:00 GMT', `${n}/a.txt`],
        ['-A', 'netkit-test/1.0', '-H', 'Host: example.test', `${n}/index.html?q=HTML`],
        ['-0', `http://127.0.0.1:${nodePort}/v10`],
        ['-X', 'PUT', '-d', 'x=1', `http://127.0.0.1:${nodePort}/put`],
        [`http://127.0.0.1:${nodePort}/teapot`],
      ]) {
        const r = await run('curl', ['-s', '-o', '/dev/null', ...args])
        if (r.code !== 0) throw new Error(`curl ${args.join(' ')}: ${r.stderr}`)
      }
      const agent = new http.Agent({ keepAlive: true })
      for (const path of ['/node-1', '/node-2?q=a%20b']) {
        await new Promise<void>((resolve, reject) => {
          http.request({ host: '127.0.0.1', port: nodePort, path, method: 'POST', agent, headers: { 'content-type': 'text/plain' } }, (res) => { res.resume(); res.on('end', resolve) }).on('error', reject).end('hello')
        })
      }
      agent.destroy()
    })
  } finally {
    await nginx.stop()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return file
}
