// The floor of a Node.js HTTPS client that makes a connection per request, for bench/http-load:
// 10 loops of node:tls's connect (one shared SecureContext, ALPN http/1.1, the last session
// offered, certificates not checked), each sending `GET /` with `Connection: close` and reading
// until the server closes, for the given seconds. Prints {"requests":N,"seconds":S}.
//
//   node bench/lib/tls-connect-loop.mjs https://127.0.0.1:PORT/ SECONDS USER_AGENT
import { connect, createSecureContext } from 'node:tls'

const [url, seconds = '5', userAgent = 'netkit'] = process.argv.slice(2)
const u = new URL(url)
const request = Buffer.from(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: ${userAgent}\r\nConnection: close\r\n\r\n`)
const secureContext = createSecureContext({})
const started = performance.now()
const end = started + Number(seconds) * 1000
let session
let requests = 0
let errors = 0

function loop() {
  if (performance.now() >= end) return
  const socket = connect({ host: u.hostname, port: Number(u.port), secureContext, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], session })
  let got = 0
  socket.on('session', (s) => { session = s })
  socket.on('secureConnect', () => socket.write(request))
  socket.on('data', (chunk) => { got += chunk.length })
  socket.on('end', () => { if (got > 0) requests++; socket.destroy() })
  socket.on('error', () => { errors++ })
  socket.on('close', loop)
}

for (let i = 0; i < 10; i++) loop()
process.on('exit', () => {
  console.log(JSON.stringify({ requests, errors, seconds: (performance.now() - started) / 1000 }))
})
