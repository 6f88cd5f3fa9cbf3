// @ts-check
// Resource records (RFC 1035 section 4.1.3) and the data of the common types, with the fields
// tshark 4.0 gives them: A, AAAA, NS, CNAME, PTR, MX, TXT, SRV (RFC 2782), SOA, OPT (EDNS,
// RFC 6891, with its options), SVCB and HTTPS (RFC 9460).
import { readName, name } from './names.js'

/** @typedef {import('./index.js').DnsFields} DnsFields */

/** Resource record types (IANA dns-parameters). */
const Type = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, SVCB: 64, HTTPS: 65 }
/** EDNS option codes (IANA dns-parameters, "DNS EDNS0 Option Codes"). */
const Option = { CLIENT_SUBNET: 8, COOKIE: 10, TCP_KEEPALIVE: 11, PADDING: 12 }
/** SVCB/HTTPS parameter keys (RFC 9460 section 14.3.2). */
const SvcKey = { MANDATORY: 0, ALPN: 1, NO_DEFAULT_ALPN: 2, PORT: 3, IPV4HINT: 4, ECH: 5, IPV6HINT: 6 }
/** A client cookie is 8 bytes (RFC 7873 section 4). */
const CLIENT_COOKIE = 8

/**
 * One resource record at `p` of the message at `m` (ending at `end`); returns the offset after it.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {DnsFields} f @param {number} m @param {number} p @param {number} end @param {boolean} mdns
 */
export function record(view, ctx, f, m, p, end, mdns) {
  const wantName = ctx.wants(f.respName) || ctx.wants(f.srvService) || ctx.wants(f.srvProto) || ctx.wants(f.srvName)
  p = readName(view, m, p, end, wantName)
  const type = view.u16(p)
  if (wantName) ownerName(ctx, f, type)
  ctx.set(f.respType, type)
  const len = view.u16(p + 8)
  const d = p + 10
  if (type === Type.OPT) {
    ctx.add(f.udpPayloadSize, p + 2, 2) // the class holds the sender's UDP payload size
    ctx.add(f.extRcode, p + 4, 1)
    ctx.add(f.ednsVersion, p + 5, 1)
    const z = ctx.add(f.ednsZ, p + 6, 2)
    ctx.set(f.ednsDo, z >> 15)
    ctx.set(f.ednsReserved, z & 0x7fff)
    ctx.set(f.respLen, len)
    if (mdns) ctx.set(f.cacheFlush, view.u16(p + 2) >> 15)
    options(view, ctx, f, d, d + len)
    return d + len
  }
  const cls = view.u16(p + 2)
  ctx.set(f.respClass, mdns ? cls & 0x7fff : cls)
  if (mdns) ctx.set(f.cacheFlush, cls >> 15)
  ctx.add(f.ttl, p + 4, 4)
  ctx.set(f.respLen, len)
  if (len === 0) return d
  view.need(d, Math.min(len, 1))
  switch (type) {
    case Type.A: ctx.add(f.a, d, 4); break
    case Type.AAAA: ctx.add(f.aaaa, d, 16); break
    case Type.NS: nameField(view, ctx, f.ns, m, d, end); break
    case Type.CNAME: nameField(view, ctx, f.cname, m, d, end); break
    case Type.PTR: nameField(view, ctx, f.ptr, m, d, end); break
    case Type.MX:
      ctx.add(f.mxPreference, d, 2)
      nameField(view, ctx, f.mxExchange, m, d + 2, end)
      break
    case Type.TXT:
      for (let s = d; s < d + len;) {
        const n = ctx.add(f.txtLength, s, 1)
        ctx.add(f.txt, s + 1, n)
        s += 1 + n
      }
      break
    case Type.SRV:
      ctx.add(f.srvPriority, d, 2)
      ctx.add(f.srvWeight, d + 2, 2)
      ctx.add(f.srvPort, d + 4, 2)
      nameField(view, ctx, f.srvTarget, m, d + 6, end)
      break
    case Type.SOA: {
      let q = nameField(view, ctx, f.soaMname, m, d, end)
      q = nameField(view, ctx, f.soaRname, m, q, end)
      ctx.add(f.soaSerial, q, 4)
      ctx.add(f.soaRefresh, q + 4, 4)
      ctx.add(f.soaRetry, q + 8, 4)
      ctx.add(f.soaExpire, q + 12, 4)
      ctx.add(f.soaMinimum, q + 16, 4)
      break
    }
    case Type.SVCB: case Type.HTTPS: svcb(view, ctx, f, m, d, d + len, end); break
  }
  return d + len
}

/**
 * The record's owner name: dns.resp.name, except for SRV records, whose name tshark splits at
 * its first two dots into dns.srv.service, .proto and .name (RFC 2782's `_service._proto.name`).
 * @param {import('netkit').DissectContext} ctx @param {DnsFields} f @param {number} type
 */
function ownerName(ctx, f, type) {
  const text = name.text
  if (type !== Type.SRV || name.length === 0) return ctx.setText(f.respName, text)
  const a = text.indexOf('.')
  if (a < 0) return ctx.setText(f.srvService, text)
  ctx.setText(f.srvService, text.slice(0, a))
  const b = text.indexOf('.', a + 1)
  if (b < 0) return ctx.setText(f.srvProto, text.slice(a + 1))
  ctx.setText(f.srvProto, text.slice(a + 1, b))
  ctx.setText(f.srvName, text.slice(b + 1))
}

/**
 * A name in record data, recorded as `field` when wanted; returns the offset after it.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx @param {number} field
 * @param {number} m @param {number} at @param {number} end
 */
function nameField(view, ctx, field, m, at, end) {
  const want = ctx.wants(field)
  const next = readName(view, m, at, end, want)
  if (want) ctx.setText(field, name.text)
  return next
}

/**
 * EDNS options (RFC 6891 section 6.1.2): code, length, data, and the fields of the common ones.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx @param {DnsFields} f
 * @param {number} p @param {number} end
 */
function options(view, ctx, f, p, end) {
  while (p + 4 <= end) {
    ctx.set(f.opt, 1)
    const code = ctx.add(f.optCode, p, 2)
    const len = ctx.add(f.optLen, p + 2, 2)
    const d = p + 4
    if (len > 0) ctx.add(f.optData, d, Math.min(len, end - d))
    else ctx.setText(f.optData, '<MISSING>') // tshark's text for an empty option (NSID request)
    if (code === Option.COOKIE && len >= CLIENT_COOKIE) {
      ctx.add(f.cookieClient, d, CLIENT_COOKIE)
      if (len > CLIENT_COOKIE) ctx.add(f.cookieServer, d + CLIENT_COOKIE, len - CLIENT_COOKIE)
      else ctx.setText(f.cookieServer, '<MISSING>') // tshark's text for a client-only cookie
    } else if (code === Option.CLIENT_SUBNET && len >= 4) {
      ctx.add(f.ecsFamily, d, 2)
      ctx.add(f.ecsNetmask, d + 2, 1)
      ctx.add(f.ecsScope, d + 3, 1)
    } else if (code === Option.TCP_KEEPALIVE && len === 2) {
      ctx.add(f.keepalive, d, 2)
    } else if (code === Option.PADDING && len > 0) {
      ctx.add(f.padding, d, len)
    }
    p = d + len
  }
}

/**
 * SVCB and HTTPS data (RFC 9460 section 2.2): priority, target, and the parameters.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx @param {DnsFields} f
 * @param {number} m @param {number} p @param {number} end @param {number} msgEnd
 */
function svcb(view, ctx, f, m, p, end, msgEnd) {
  ctx.add(f.svcPriority, p, 2)
  p = nameField(view, ctx, f.svcTarget, m, p + 2, msgEnd)
  while (p + 4 <= end) {
    const key = ctx.add(f.svcKey, p, 2)
    const len = ctx.add(f.svcValueLength, p + 2, 2)
    const d = p + 4
    const e = d + len
    switch (key) {
      case SvcKey.MANDATORY: for (let q = d; q + 2 <= e; q += 2) ctx.add(f.svcMandatory, q, 2); break
      case SvcKey.ALPN:
        for (let q = d; q < e;) {
          const n = ctx.add(f.svcAlpnLength, q, 1)
          ctx.add(f.svcAlpn, q + 1, n)
          q += 1 + n
        }
        break
      case SvcKey.NO_DEFAULT_ALPN: break
      case SvcKey.PORT: ctx.add(f.svcPort, d, 2); break
      case SvcKey.IPV4HINT: for (let q = d; q + 4 <= e; q += 4) ctx.add(f.svcIpv4, q, 4); break
      case SvcKey.ECH: ctx.add(f.svcEch, d, len); break
      case SvcKey.IPV6HINT: for (let q = d; q + 16 <= e; q += 16) ctx.add(f.svcIpv6, q, 16); break
      default: if (len > 0) ctx.add(f.svcValue, d, len)
    }
    p = e
  }
}
