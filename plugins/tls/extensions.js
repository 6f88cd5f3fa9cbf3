// @ts-check
// Hello extensions (RFC 8446 section 4.2 and the RFCs of each), with the fields tshark 4.0
// gives them: server_name (RFC 6066), supported_groups (RFC 8422), ec_point_formats,
// signature_algorithms, ALPN (RFC 7301), supported_versions, psk_key_exchange_modes, key_share,
// renegotiation_info (RFC 5746).

/** Extension types (IANA tls-extensiontype-values). */
const Ext = {
  SERVER_NAME: 0, SUPPORTED_GROUPS: 10, EC_POINT_FORMATS: 11, SIGNATURE_ALGORITHMS: 13, ALPN: 16,
  SUPPORTED_VERSIONS: 43, PSK_KEY_EXCHANGE_MODES: 45, KEY_SHARE: 51, RENEGOTIATION_INFO: 0xff01,
}

/**
 * The extensions block [p, end) of a ClientHello (`client`) or ServerHello; returns the version
 * a ServerHello's supported_versions selects (0 when it has none).
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {Record<string, number>} f @param {boolean} client @param {number} p @param {number} end
 */
export function extensions(view, ctx, f, client, p, end) {
  let selected = 0
  while (p + 4 <= end) {
    const type = ctx.add(f.extType, p, 2)
    const len = ctx.add(f.extLen, p + 2, 2)
    const d = p + 4
    const e = Math.min(end, d + len)
    p = d + len
    if (len === 0) continue
    switch (type) {
      case Ext.SERVER_NAME: {
        if (!client) break
        const n = ctx.add(f.sniListLen, d, 2)
        for (let q = d + 2; q + 3 <= Math.min(e, d + 2 + n);) {
          ctx.add(f.sniType, q, 1)
          const l = ctx.add(f.sniLen, q + 1, 2)
          ctx.add(f.sni, q + 3, l)
          q += 3 + l
        }
        break
      }
      case Ext.SUPPORTED_GROUPS: list16(ctx, f.groupsLength, f.group, d, e); break
      case Ext.EC_POINT_FORMATS: {
        const n = ctx.add(f.pointFormatsLength, d, 1)
        for (let q = d + 1; q < Math.min(e, d + 1 + n); q++) ctx.add(f.pointFormat, q, 1)
        break
      }
      case Ext.SIGNATURE_ALGORITHMS: {
        const n = ctx.add(f.sigAlgsLength, d, 2)
        for (let q = d + 2; q + 2 <= Math.min(e, d + 2 + n); q += 2) {
          ctx.add(f.sigAlg, q, 2)
          ctx.add(f.sigHash, q, 1)
          ctx.add(f.sigSig, q + 1, 1)
        }
        break
      }
      case Ext.ALPN: {
        const n = ctx.add(f.alpnLen, d, 2)
        for (let q = d + 2; q < Math.min(e, d + 2 + n);) {
          const l = ctx.add(f.alpnStrLen, q, 1)
          ctx.add(f.alpn, q + 1, l)
          q += 1 + l
        }
        break
      }
      case Ext.SUPPORTED_VERSIONS:
        if (client) {
          const n = ctx.add(f.versionsLen, d, 1)
          for (let q = d + 1; q + 2 <= Math.min(e, d + 1 + n); q += 2) ctx.add(f.supportedVersion, q, 2)
        } else selected = ctx.add(f.supportedVersion, d, 2)
        break
      case Ext.PSK_KEY_EXCHANGE_MODES: {
        const n = ctx.add(f.pskModesLength, d, 1)
        for (let q = d + 1; q < Math.min(e, d + 1 + n); q++) ctx.add(f.pskMode, q, 1)
        break
      }
      case Ext.KEY_SHARE:
        if (client) {
          const n = ctx.add(f.keyShareLength, d, 2)
          for (let q = d + 2; q + 4 <= Math.min(e, d + 2 + n);) q = keyShare(ctx, f, q)
        } else if (len === 2) ctx.add(f.keyShareGroup, d, 2) // HelloRetryRequest: the group asked for
        else keyShare(ctx, f, d)
        break
      case Ext.RENEGOTIATION_INFO: ctx.add(f.renegLen, d, 1); break
    }
  }
  return selected
}

/**
 * A list of 16-bit values after a 16-bit length.
 * @param {import('netkit').DissectContext} ctx @param {number} lengthField @param {number} itemField
 * @param {number} d @param {number} e
 */
function list16(ctx, lengthField, itemField, d, e) {
  const n = ctx.add(lengthField, d, 2)
  for (let q = d + 2; q + 2 <= Math.min(e, d + 2 + n); q += 2) ctx.add(itemField, q, 2)
}

/**
 * One KeyShareEntry (RFC 8446 section 4.2.8): group, key length, key; returns the offset after it.
 * @param {import('netkit').DissectContext} ctx @param {Record<string, number>} f @param {number} q
 */
function keyShare(ctx, f, q) {
  ctx.add(f.keyShareGroup, q, 2)
  const l = ctx.add(f.keyExchangeLength, q + 2, 2)
  if (l > 0) ctx.add(f.keyExchange, q + 4, l)
  return q + 4 + l
}
