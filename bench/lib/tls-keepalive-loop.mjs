// The ceiling of a Node.js HTTPS client on keep-alive connections, for bench/http-load: 10
// connections through node:tls (one shared SecureContext, ALPN http/1.1, certificates not
// checked), each with one request in flight: `GET /` with Host and User-Agent, the bench's
// request, written again as soon as the previous response has come whole. Decrypted bytes land
// in one shared buffer (tls.connect's `onread`), and no HTTP parsing is done: the first response's
// head gives its size (Content-Length, no chunking), and a response is whole when that many bytes
// have come. That is node:tls's own cost per request, and nothing of any HTTP client.
// Prints {"requests":N,"errors":E,"seconds":S}.
//
//   node bench/lib/tls-keepalive-loop.mjs https://127.0.0.1:PORT/ SECONDS USER_AGENT [CONNECTIONS]
import { connect, createSecureContext } from 'node:tls'

const [url, seconds = '5', userAgent = 'netkit', connections = '10'] = process.argv.slice(2)
const u = new URL(url)
const request = Buffer.from(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: ${userAgent}\r\n\r\n`, 'latin1')
const secureContext = createSecureContext({})
const buffer = Buffer.allocUnsafe(64 * 1024)
const started = performance.now()
const end = started + Number(seconds) * 1000
/** Bytes of one response (head and body), learned from the first one. */
let size = 0
let requests = 0
let errors = 0

function open() {
  let got = 0
  let head = ''
  const socket = connect({
    host: u.hostname,
    port: Number(u.port),
    secureContext,
    rejectUnauthorized: false,
    ALPNProtocols: ['http/1.1'],
    onread: {
      buffer,
      callback(nread) {
        if (size === 0) {
          head += buffer.latin1Slice(0, nread)
          const at = head.indexOf('\r\n\r\n')
          const m = /\r\ncontent-length:\s*(\d+)/i.exec(head)
          if (at < 0 || m === null) return true
          size = at + 4 + Number(m[1])
        }
        got += nread
        if (got >= size) {
          got -= size
          requests++
          if (performance.now() < end) socket.write(request)
          else socket.destroy()
        }
        return true
      },
    },
  })
  socket.setNoDelay(true)
  socket.on('secureConnect', () => socket.write(request))
  socket.on('error', () => { errors++ })
}

for (let i = 0; i < Number(connections); i++) open()
process.on('exit', () => {
  console.log(JSON.stringify({ requests, errors, seconds: (performance.now() - started) / 1000 }))
})
