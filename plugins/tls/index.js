// @ts-check
// TLS over TCP (RFC 5246, RFC 8446): records reassembled across segments, handshake messages
// (ClientHello and ServerHello with their extensions, Certificate lengths), alerts, change
// cipher spec and application data, with tshark's tls.* fields. Reached on port 443 and, as
// tshark does, by a heuristic on any other port whose stream starts with a TLS record.
import { defineDissector, Port, Table } from 'netkit/plugin'
import { extensions } from './extensions.js'

/** Record content types (RFC 8446 section 5.1). */
const Content = { CHANGE_CIPHER_SPEC: 20, ALERT: 21, HANDSHAKE: 22, APPLICATION_DATA: 23, HEARTBEAT: 24 }
/** Handshake message types (RFC 8446 section 4). */
const Handshake = { CLIENT_HELLO: 1, SERVER_HELLO: 2, CERTIFICATE: 11, SERVER_KEY_EXCHANGE: 12 }
/** ECCurveType named_curve (RFC 8422 section 5.4). */
const NAMED_CURVE = 3
/** The record header: type, version, length (RFC 8446 section 5.1). */
const HEADER = 5
/** Largest record length: 2^14 plus the expansion TLS 1.2 allows (RFC 5246 section 6.2.3). */
const MAX_RECORD = (1 << 14) + 2048
/** TLS 1.3's version number, as ServerHello's supported_versions names it (RFC 8446 section 4.2.1). */
const TLS13 = 0x0304
/** Streams remembered (negotiated version, which side sent ChangeCipherSpec); past this many the table starts over. */
const MAX_SESSIONS = 1 << 16

/** What one TCP stream has said so far. */
class Session {
  tls13 = false
  /** Per direction (flow & 1): ChangeCipherSpec seen, so later handshake and alert records are encrypted. */
  ccs = [false, false]
}

const newSessions = () => /** @type {Map<number, Session>} */ (new Map())

/** Whether bytes at `at` start a TLS record: a known type, version 3.x, a length TLS allows. */
function looksLikeRecord(/** @type {import('netkit').ByteView} */ view) {
  if (!view.has(0, HEADER)) return false
  const type = view.u8(0)
  const version = view.u16(1)
  return type >= Content.CHANGE_CIPHER_SPEC && type <= Content.HEARTBEAT && version >= 0x0300 && version <= TLS13 && view.u16(3) <= MAX_RECORD
}

export default defineDissector({
  name: 'tls',
  title: 'Transport Layer Security',
  handsOn: [],
  // Structure fields (tls.record, tls.handshake, ...) are Wireshark FT_NONE items, which
  // `tshark -T fields` prints as 1 where present: declared bool, set to 1.
  fields: {
    record: { name: 'tls.record', type: 'bool', label: 'Record Layer' },
    contentType: { name: 'tls.record.content_type', type: 'uint', label: 'Content Type' },
    opaqueType: { name: 'tls.record.opaque_type', type: 'uint', label: 'Opaque Type' },
    version: { name: 'tls.record.version', type: 'uint', hexDigits: 4, label: 'Version' },
    length: { name: 'tls.record.length', type: 'uint', label: 'Length' },
    changeCipherSpec: { name: 'tls.change_cipher_spec', type: 'bool', label: 'Change Cipher Spec Message' },
    appData: { name: 'tls.app_data', type: 'bytes', label: 'Encrypted Application Data' },
    alert: { name: 'tls.alert_message', type: 'bool', label: 'Alert Message' },
    alertLevel: { name: 'tls.alert_message.level', type: 'uint', label: 'Level' },
    alertDesc: { name: 'tls.alert_message.desc', type: 'uint', label: 'Description' },
    handshake: { name: 'tls.handshake', type: 'bool', label: 'Handshake Protocol' },
    hsType: { name: 'tls.handshake.type', type: 'uint', label: 'Handshake Type' },
    hsLength: { name: 'tls.handshake.length', type: 'uint', label: 'Length' },
    hsVersion: { name: 'tls.handshake.version', type: 'uint', hexDigits: 4, label: 'Version' },
    random: { name: 'tls.handshake.random', type: 'bytes', label: 'Random' },
    sessionIdLength: { name: 'tls.handshake.session_id_length', type: 'uint', label: 'Session ID Length' },
    sessionId: { name: 'tls.handshake.session_id', type: 'bytes', label: 'Session ID' },
    cipherSuitesLength: { name: 'tls.handshake.cipher_suites_length', type: 'uint', label: 'Cipher Suites Length' },
    cipherSuite: { name: 'tls.handshake.ciphersuite', type: 'uint', hexDigits: 4, label: 'Cipher Suite' },
    compMethodsLength: { name: 'tls.handshake.comp_methods_length', type: 'uint', label: 'Compression Methods Length' },
    compMethod: { name: 'tls.handshake.comp_method', type: 'uint', label: 'Compression Method' },
    extensionsLength: { name: 'tls.handshake.extensions_length', type: 'uint', label: 'Extensions Length' },
    extType: { name: 'tls.handshake.extension.type', type: 'uint', label: 'Type' },
    extLen: { name: 'tls.handshake.extension.len', type: 'uint', label: 'Length' },
    sniListLen: { name: 'tls.handshake.extensions_server_name_list_len', type: 'uint', label: 'Server Name list length' },
    sniType: { name: 'tls.handshake.extensions_server_name_type', type: 'uint', label: 'Server Name Type' },
    sniLen: { name: 'tls.handshake.extensions_server_name_len', type: 'uint', label: 'Server Name length' },
    sni: { name: 'tls.handshake.extensions_server_name', type: 'string', label: 'Server Name' },
    groupsLength: { name: 'tls.handshake.extensions_supported_groups_length', type: 'uint', label: 'Supported Groups List Length' },
    group: { name: 'tls.handshake.extensions_supported_group', type: 'uint', hexDigits: 4, label: 'Supported Group' },
    pointFormatsLength: { name: 'tls.handshake.extensions_ec_point_formats_length', type: 'uint', label: 'EC point formats Length' },
    pointFormat: { name: 'tls.handshake.extensions_ec_point_format', type: 'uint', label: 'EC point format' },
    sigAlgsLength: { name: 'tls.handshake.sig_hash_alg_len', type: 'uint', label: 'Signature Hash Algorithms Length' },
    sigAlg: { name: 'tls.handshake.sig_hash_alg', type: 'uint', hexDigits: 4, label: 'Signature Algorithm' },
    sigHash: { name: 'tls.handshake.sig_hash_hash', type: 'uint', label: 'Signature Hash Algorithm Hash' },
    sigSig: { name: 'tls.handshake.sig_hash_sig', type: 'uint', label: 'Signature Hash Algorithm Signature' },
    alpnLen: { name: 'tls.handshake.extensions_alpn_len', type: 'uint', label: 'ALPN Extension Length' },
    alpnStrLen: { name: 'tls.handshake.extensions_alpn_str_len', type: 'uint', label: 'ALPN string length' },
    alpn: { name: 'tls.handshake.extensions_alpn_str', type: 'string', label: 'ALPN Next Protocol' },
    versionsLen: { name: 'tls.handshake.extensions.supported_versions_len', type: 'uint', label: 'Supported Versions length' },
    supportedVersion: { name: 'tls.handshake.extensions.supported_version', type: 'uint', hexDigits: 4, label: 'Supported Version' },
    pskModesLength: { name: 'tls.extension.psk_ke_modes_length', type: 'uint', label: 'PSK Key Exchange Modes Length' },
    pskMode: { name: 'tls.extension.psk_ke_mode', type: 'uint', label: 'PSK Key Exchange Mode' },
    keyShareLength: { name: 'tls.handshake.extensions_key_share_client_length', type: 'uint', label: 'Client Key Share Length' },
    keyShareGroup: { name: 'tls.handshake.extensions_key_share_group', type: 'uint', label: 'Group' },
    keyExchangeLength: { name: 'tls.handshake.extensions_key_share_key_exchange_length', type: 'uint', label: 'Key Exchange Length' },
    keyExchange: { name: 'tls.handshake.extensions_key_share_key_exchange', type: 'bytes', label: 'Key Exchange' },
    renegLen: { name: 'tls.handshake.extensions_reneg_info_len', type: 'uint', label: 'Renegotiation info extension length' },
    certificatesLength: { name: 'tls.handshake.certificates_length', type: 'uint', label: 'Certificates Length' },
    certificateLength: { name: 'tls.handshake.certificate_length', type: 'uint', label: 'Certificate Length' },
    certificate: { name: 'tls.handshake.certificate', type: 'bytes', label: 'Certificate' },
  },
  register: [{ table: Table.TCP_PORT, key: Port.HTTPS }],
  heuristic: [Table.TCP_PORT],
  recognize: looksLikeRecord,
  dissect(view, ctx, f) {
    if (view.reported < HEADER) return ctx.needMore(HEADER - view.reported)
    if (!looksLikeRecord(view)) return // not a record start (data before the capture began): shown as tls, no fields
    const len = view.u16(3)
    if (view.reported < HEADER + len) return ctx.needMore(HEADER + len - view.reported)
    ctx.pduLength(HEADER + len)
    const session = sessionOf(ctx)
    const dir = ctx.flow & 1
    const type = view.u8(0)
    ctx.set(f.record, 1)
    // In TLS 1.3 every protected record says "application data" (RFC 8446 section 5.2): tshark
    // calls that the opaque type.
    if (type === Content.APPLICATION_DATA && session?.tls13) ctx.set(f.opaqueType, type)
    else ctx.set(f.contentType, type)
    ctx.add(f.version, 1, 2)
    ctx.set(f.length, len)
    const end = HEADER + len
    switch (type) {
      case Content.CHANGE_CIPHER_SPEC:
        ctx.set(f.changeCipherSpec, 1)
        if (session) session.ccs[dir] = true
        break
      case Content.ALERT:
        ctx.set(f.alert, 1)
        if (len === 2 && !session?.ccs[dir]) { ctx.add(f.alertLevel, HEADER, 1); ctx.add(f.alertDesc, HEADER + 1, 1) }
        break
      case Content.HANDSHAKE:
        if (session?.ccs[dir]) ctx.set(f.handshake, 1) // encrypted: the message, undecoded
        if (!session?.ccs[dir]) handshakes(view, ctx, f, session, HEADER, end)
        break
      case Content.APPLICATION_DATA:
        if (len > 0) ctx.add(f.appData, HEADER, len)
        break
    }
  },
})

/**
 * The stream's session state (undefined outside a stream).
 * @param {import('netkit').DissectContext} ctx
 */
function sessionOf(ctx) {
  if (ctx.flow < 0) return undefined
  const sessions = ctx.state('tls.sessions', newSessions)
  const stream = ctx.flow >>> 1
  let s = sessions.get(stream)
  if (s === undefined) {
    if (sessions.size >= MAX_SESSIONS) sessions.clear()
    s = new Session()
    sessions.set(stream, s)
  }
  return s
}

/**
 * The handshake messages of one record (a record may hold several; one that runs past the
 * record is left, as a message split across records is not put together here).
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {Record<string, number>} f @param {Session | undefined} session @param {number} p @param {number} end
 */
function handshakes(view, ctx, f, session, p, end) {
  while (p + 4 <= end) {
    ctx.set(f.handshake, 1)
    const type = ctx.add(f.hsType, p, 1)
    const len = ctx.add(f.hsLength, p + 1, 3)
    const body = p + 4
    if (body + len > end) return
    if (type === Handshake.CLIENT_HELLO || type === Handshake.SERVER_HELLO) hello(view, ctx, f, session, type, body, body + len)
    else if (type === Handshake.CERTIFICATE && !session?.tls13) certificates(view, ctx, f, body, body + len)
    else if (type === Handshake.SERVER_KEY_EXCHANGE && len > 4 && view.u8(body) === NAMED_CURVE) {
      // ECDHE parameters, then the signature's algorithm (RFC 8422 section 5.4, TLS 1.2).
      const q = body + 4 + view.u8(body + 3)
      if (q + 2 <= body + len) {
        ctx.add(f.sigAlg, q, 2)
        ctx.add(f.sigHash, q, 1)
        ctx.add(f.sigSig, q + 1, 1)
      }
    }
    p = body + len
  }
}

/**
 * ClientHello and ServerHello (RFC 8446 sections 4.1.2 and 4.1.3).
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {Record<string, number>} f @param {Session | undefined} session @param {number} type
 * @param {number} p @param {number} end
 */
function hello(view, ctx, f, session, type, p, end) {
  const client = type === Handshake.CLIENT_HELLO
  ctx.add(f.hsVersion, p, 2)
  ctx.add(f.random, p + 2, 32)
  const idLen = ctx.add(f.sessionIdLength, p + 34, 1)
  if (idLen > 0) ctx.add(f.sessionId, p + 35, idLen)
  p += 35 + idLen
  if (client) {
    const n = ctx.add(f.cipherSuitesLength, p, 2)
    for (let q = p + 2; q + 2 <= p + 2 + n; q += 2) ctx.add(f.cipherSuite, q, 2)
    p += 2 + n
    const m = ctx.add(f.compMethodsLength, p, 1)
    for (let q = p + 1; q < p + 1 + m; q++) ctx.add(f.compMethod, q, 1)
    p += 1 + m
  } else {
    ctx.add(f.cipherSuite, p, 2)
    ctx.add(f.compMethod, p + 2, 1)
    p += 3
  }
  if (p + 2 > end) return
  const n = ctx.add(f.extensionsLength, p, 2)
  const version = extensions(view, ctx, f, client, p + 2, Math.min(end, p + 2 + n))
  if (!client && version === TLS13 && session) session.tls13 = true
}

/**
 * A TLS 1.2 Certificate message (RFC 5246 section 7.4.2): the list's length and each certificate.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {Record<string, number>} f @param {number} p @param {number} end
 */
function certificates(view, ctx, f, p, end) {
  const total = ctx.add(f.certificatesLength, p, 3)
  const stop = Math.min(end, p + 3 + total)
  for (let q = p + 3; q + 3 <= stop;) {
    const n = ctx.add(f.certificateLength, q, 3)
    if (q + 3 + n > stop) return
    ctx.add(f.certificate, q + 3, n)
    q += 3 + n
  }
}
