// @ts-check
// Spanning Tree BPDUs (IEEE 802.1D-2004 clause 9: STP and RSTP; IEEE 802.1Q-2014 clause 14: the
// MST extension), over LLC (DSAP 0x42) and Cisco's PVST+ (SNAP, PID 0x010b, with its TLV naming
// the originating VLAN).
import { defineDissector, LlcSap, Table } from 'netkit/plugin'

/** BPDU types (802.1D-2004 clause 9.3.1-9.3.3). */
const CONFIG = 0x00, TCN = 0x80, RST = 0x02
/** Cisco's PVST+ protocol ids under its SNAP OUI (Wireshark registers these for stp). */
const PVST_PIDS = [0x0108, 0x0109, 0x010b, 0x010c]

/** @param {string} name @param {string} label */
const uint = (name, label) => ({ name, type: /** @type {'uint'} */ ('uint'), label })
/** @param {string} name @param {string} label */
const bool = (name, label) => ({ name, type: /** @type {'bool'} */ ('bool'), label })

export default defineDissector({
  name: 'stp',
  title: 'Spanning Tree Protocol',
  handsOn: [],
  fields: {
    protocol: { ...uint('stp.protocol', 'Protocol Identifier'), hexDigits: 4 },
    version: uint('stp.version', 'Protocol Version Identifier'),
    type: { ...uint('stp.type', 'BPDU Type'), hexDigits: 2 },
    flags: { ...uint('stp.flags', 'BPDU flags'), hexDigits: 2 },
    tcack: bool('stp.flags.tcack', 'Topology Change Acknowledgment'),
    agreement: bool('stp.flags.agreement', 'Agreement'),
    forwarding: bool('stp.flags.forwarding', 'Forwarding'),
    learning: bool('stp.flags.learning', 'Learning'),
    portRole: uint('stp.flags.port_role', 'Port Role'),
    proposal: bool('stp.flags.proposal', 'Proposal'),
    tc: bool('stp.flags.tc', 'Topology Change'),
    rootPrio: uint('stp.root.prio', 'Root Bridge Priority'),
    rootExt: uint('stp.root.ext', 'Root Bridge System ID Extension'),
    rootHw: { name: 'stp.root.hw', type: 'ether', label: 'Root Bridge System ID' },
    rootCost: uint('stp.root.cost', 'Root Path Cost'),
    bridgePrio: uint('stp.bridge.prio', 'Bridge Priority'),
    bridgeExt: uint('stp.bridge.ext', 'Bridge System ID Extension'),
    bridgeHw: { name: 'stp.bridge.hw', type: 'ether', label: 'Bridge System ID' },
    port: { ...uint('stp.port', 'Port identifier'), hexDigits: 4 },
    msgAge: { name: 'stp.msg_age', type: 'double', label: 'Message Age' },
    maxAge: { name: 'stp.max_age', type: 'double', label: 'Max Age' },
    hello: { name: 'stp.hello', type: 'double', label: 'Hello Time' },
    forward: { name: 'stp.forward', type: 'double', label: 'Forward Delay' },
    v1Length: uint('stp.version_1_length', 'Version 1 Length'),
    v3Length: uint('mstp.version_3_length', 'Version 3 Length'),
    configFormat: uint('mstp.config_format_selector', 'MST Config ID format selector'),
    configName: { name: 'mstp.config_name', type: 'string', label: 'MST Config name' },
    configRevision: uint('mstp.config_revision_level', 'MST Config revision'),
    configDigest: { name: 'mstp.config_digest', type: 'bytes', label: 'MST Config digest' },
    cistCost: uint('mstp.cist_internal_root_path_cost', 'CIST Internal Root Path Cost'),
    cistPrio: uint('mstp.cist_bridge.prio', 'CIST Bridge Priority'),
    cistExt: uint('mstp.cist_bridge.ext', 'CIST Bridge Identifier System ID Extension'),
    cistHw: { name: 'mstp.cist_bridge.hw', type: 'ether', label: 'CIST Bridge Identifier System ID' },
    cistHops: uint('mstp.cist_remaining_hops', 'CIST Remaining hops'),
    mstiFlags: { ...uint('mstp.msti.flags', 'MSTI flags'), hexDigits: 2 },
    mstiPriority: { ...uint('mstp.msti.priority', 'Priority'), hexDigits: 1 },
    mstiId: uint('mstp.msti.msti_id', 'MSTID'),
    mstiRootHw: { name: 'mstp.msti.root.hw', type: 'ether', label: 'Regional Root' },
    mstiRootCost: uint('mstp.msti.root_cost', 'Internal root path cost'),
    mstiBridgePriority: uint('mstp.msti.bridge_priority', 'Bridge Identifier Priority'),
    mstiPortPriority: uint('mstp.msti.port_priority', 'Port identifier priority'),
    mstiHops: uint('mstp.msti.remaining_hops', 'Remaining hops'),
    pvstType: { ...uint('stp.pvst.tlvtype', 'Type'), hexDigits: 4 },
    pvstLen: uint('stp.pvst.tlvlen', 'Length'),
    pvstVlan: uint('stp.pvst.origvlan', 'Originating VLAN (PVID)'),
  },
  register: [{ table: Table.LLC_DSAP, key: LlcSap.STP }, ...PVST_PIDS.map((key) => ({ table: Table.LLC_CISCO_PID, key }))],
  dissect(view, ctx, f) {
    if (ctx.wantsInfo) line(view, ctx)
    // The type decides the layout: without it the BPDU shows nothing (as Wireshark's).
    view.need(0, 4)
    ctx.add(f.protocol, 0, 2)
    const version = ctx.add(f.version, 2, 1)
    const type = ctx.add(f.type, 3, 1)
    if (type === TCN) return
    if (type !== CONFIG && type !== RST) return ctx.malformed(`unknown BPDU type 0x${type.toString(16)}`)
    flagBits(ctx, f, ctx.add(f.flags, 4, 1), type === RST)
    bridgeId(view, ctx, 5, f.rootPrio, f.rootExt, f.rootHw)
    ctx.add(f.rootCost, 13, 4)
    bridgeId(view, ctx, 17, f.bridgePrio, f.bridgeExt, f.bridgeHw)
    ctx.add(f.port, 25, 2)
    // Times are in units of 1/256 second (802.1D-2004 clause 9.2.8).
    ctx.set(f.msgAge, view.u16(27) / 256)
    ctx.set(f.maxAge, view.u16(29) / 256)
    ctx.set(f.hello, view.u16(31) / 256)
    ctx.set(f.forward, view.u16(33) / 256)
    let end = 35
    if (type === RST) {
      ctx.add(f.v1Length, 35, 1)
      end = 36
      if (version >= 3 && view.has(36, 2)) end = mst(view, ctx, f)
    }
    // PVST+'s TLVs start after the 36 bytes of an RST BPDU (a config BPDU is padded to it).
    pvst(view, ctx, f, Math.max(end, 36))
  },
})

/**
 * The flag bits of a BPDU or an MSTI record (802.1D-2004 clause 9.3.3): RST's role and
 * handshake bits only with `rapid`.
 * @param {import('netkit').DissectContext} ctx @param {Record<string, number>} f
 * @param {number} flags @param {boolean} rapid
 */
function flagBits(ctx, f, flags, rapid) {
  ctx.set(f.tcack, flags >> 7)
  if (rapid) {
    ctx.set(f.agreement, (flags >> 6) & 1)
    ctx.set(f.forwarding, (flags >> 5) & 1)
    ctx.set(f.learning, (flags >> 4) & 1)
    ctx.set(f.portRole, (flags >> 2) & 3)
    ctx.set(f.proposal, (flags >> 1) & 1)
  }
  ctx.set(f.tc, flags & 1)
}

/**
 * A bridge identifier: 4 bits of priority (in units of 4096), 12 of system id extension, a MAC.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {number} at @param {number} prio @param {number} ext @param {number} hw
 */
function bridgeId(view, ctx, at, prio, ext, hw) {
  const w = view.u16(at)
  ctx.set(prio, w & 0xf000)
  ctx.set(ext, w & 0x0fff)
  ctx.add(hw, at + 2, 6)
}

/**
 * The MST extension after the RST BPDU (802.1Q-2014 clause 14.4.1): configuration id, CIST
 * fields and 16-byte MSTI records; returns where it ends.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {Record<string, number>} f
 */
function mst(view, ctx, f) {
  const v3 = ctx.add(f.v3Length, 36, 2)
  ctx.add(f.configFormat, 38, 1)
  if (ctx.wants(f.configName)) {
    const nul = view.indexOf(0, 39, 71)
    ctx.setText(f.configName, view.text(39, (nul < 0 ? 71 : nul) - 39))
  }
  ctx.add(f.configRevision, 71, 2)
  ctx.add(f.configDigest, 73, 16)
  ctx.add(f.cistCost, 89, 4)
  bridgeId(view, ctx, 93, f.cistPrio, f.cistExt, f.cistHw)
  ctx.add(f.cistHops, 101, 1)
  const end = 38 + v3
  for (let p = 102; p + 16 <= end && view.has(p, 16); p += 16) {
    flagBits(ctx, f, ctx.add(f.mstiFlags, p, 1), true)
    const w = view.u16(p + 1)
    ctx.set(f.mstiPriority, w >> 12)
    ctx.set(f.mstiId, w & 0xfff)
    ctx.add(f.mstiRootHw, p + 3, 6)
    ctx.add(f.mstiRootCost, p + 9, 4)
    ctx.add(f.mstiBridgePriority, p + 13, 1)
    ctx.add(f.mstiPortPriority, p + 14, 1)
    ctx.add(f.mstiHops, p + 15, 1)
  }
  return end
}

/**
 * PVST+'s TLVs after the BPDU (Cisco): type 0 is the originating VLAN.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {Record<string, number>} f @param {number} at
 */
function pvst(view, ctx, f, at) {
  for (let n = 0; n < 16 && view.has(at, 4); n++) {
    const type = ctx.add(f.pvstType, at, 2)
    const len = ctx.add(f.pvstLen, at + 2, 2)
    if (type === 0 && len === 2) ctx.add(f.pvstVlan, at + 4, 2)
    if (len === 0) break
    at += 4 + len
  }
}

/** Protocol versions and BPDU flags as tcpdump names them (print-stp.c). */
const VERSIONS = /** @type {Record<number, string>} */ ({ 0: '802.1d', 2: '802.1w', 3: '802.1s', 4: '802.1aq' })
const FLAG_NAMES = /** @type {Array<[number, string]>} */ ([[0x01, 'Topology change'], [0x02, 'Proposal'], [0x10, 'Learn'],
  [0x20, 'Forward'], [0x40, 'Agreement'], [0x80, 'Topology change ACK']])

/**
 * tcpdump -n's line (print-stp.c, not verbose): "STP 802.1d, Config, Flags [none], bridge-id
 * 8001.aa:bb:cc:00:03:00.8002, length 35"; for MST "STP 802.1s, Rapid STP, CIST Flags [...], length N".
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 */
function line(view, ctx) {
  const length = view.reported
  const l = ctx.infoLine()
  if (length < 4 || !view.has(0, 4)) return l.text('STP (invalid)')
  if (view.u16(0) !== 0) return l.text('unknown STP version, length ').dec(length)
  const version = view.u8(2)
  if (VERSIONS[version] === undefined) return l.text('STP Unknown STP protocol (0x').hex(version, 2).char(0x29)
  l.text('STP ').text(VERSIONS[version])
  const type = view.u8(3)
  if (type === CONFIG) l.text(', Config')
  else if (type === RST) l.text(', Rapid STP')
  else if (type === TCN) return l.text(', Topology Change')
  else return l.text(', Unknown BPDU Type (0x').hex(type, 2).char(0x29)
  const mst = type === RST && version >= 3
  const min = type === CONFIG ? 35 : mst ? 102 : 36
  if (length < min || !view.has(0, Math.min(min, 36))) return l.text(' (invalid)')
  const flags = view.u8(4)
  l.text(mst ? ', CIST Flags [' : ', Flags [')
  let first = true
  for (const [bit, name] of FLAG_NAMES) {
    if ((flags & bit) === 0) continue
    if (!first) l.text(', ')
    l.text(name)
    first = false
  }
  if (first) l.text('none')
  if (mst) return l.text('], length ').dec(length)
  l.text('], bridge-id ').hex(view.u16(17), 4).char(0x2e).ether(view.data, view.offset + 19).char(0x2e).hex(view.u16(25), 4)
    .text(', length ').dec(length)
}
