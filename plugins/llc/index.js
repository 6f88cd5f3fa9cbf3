// @ts-check
// IEEE 802.2 LLC over 802.3 frames: DSAP, SSAP and the control field (one byte for U frames,
// two for I and S frames), then by DSAP (llc.dsap: STP on 0x42 ...) or, for SNAP (0xaa, RFC
// 1042), by OUI and protocol id: OUI 0 carries an EtherType, Cisco's OUI its own ids (CDP,
// PVST+ ...) in llc.cisco_pid.
import { defineDissector, LinkType, LlcSap, Table } from 'netkit/plugin'

/** Organizationally unique identifiers SNAP hands on by (IEEE registry); RFC 1042's and Cisco's 0xf8 carry an EtherType. */
const OUI_ENCAP_ETHER = 0x000000
const OUI_CISCO_90 = 0x0000f8
const OUI_CISCO = 0x00000c
/**
 * OUIs whose protocol ids Wireshark shows in a field of their own (llc.nortel_pid, ...), not in
 * llc.pid: Nortel, Apple AppleTalk, HP, IANA, Cisco WLCCP, Bluetooth, Extreme, Foundry, Wi-Fi Alliance.
 */
const OWN_PID_FIELD = new Set([0x000081, 0x080007, 0x080009, 0x00005e, 0x004096, 0x001958, 0x00e02b, 0x00e052, 0x506f9a])

export default defineDissector({
  name: 'llc',
  title: 'Logical-Link Control',
  handsOn: [Table.LLC_DSAP, Table.LLC_CISCO_PID, Table.ETHERTYPE, 'llc.pid'],
  fields: {
    dsap: { name: 'llc.dsap', type: 'uint', hexDigits: 2, label: 'DSAP' },
    dsapSap: { name: 'llc.dsap.sap', type: 'uint', label: 'SAP' },
    dsapIg: { name: 'llc.dsap.ig', type: 'bool', label: 'IG Bit' },
    ssap: { name: 'llc.ssap', type: 'uint', hexDigits: 2, label: 'SSAP' },
    ssapSap: { name: 'llc.ssap.sap', type: 'uint', label: 'SAP' },
    ssapCr: { name: 'llc.ssap.cr', type: 'bool', label: 'CR Bit' },
    control: { name: 'llc.control', type: 'uint', hexDigits: 4, label: 'Control field' },
    nr: { name: 'llc.control.n_r', type: 'uint', label: 'N(R)' },
    ns: { name: 'llc.control.n_s', type: 'uint', label: 'N(S)' },
    p: { name: 'llc.control.p', type: 'bool', label: 'Poll' },
    f: { name: 'llc.control.f', type: 'bool', label: 'Final' },
    sFtype: { name: 'llc.control.s_ftype', type: 'uint', hexDigits: 2, label: 'Supervisory frame type' },
    uCmd: { name: 'llc.control.u_modifier_cmd', type: 'uint', hexDigits: 2, label: 'Command' },
    uResp: { name: 'llc.control.u_modifier_resp', type: 'uint', hexDigits: 2, label: 'Response' },
    ftype: { name: 'llc.control.ftype', type: 'uint', hexDigits: 2, label: 'Frame type' },
    oui: { name: 'llc.oui', type: 'uint', label: 'Organization Code' },
    pid: { name: 'llc.pid', type: 'uint', hexDigits: 4, label: 'Protocol ID' },
    type: { name: 'llc.type', type: 'uint', hexDigits: 4, label: 'Type' },
    ciscoPid: { name: 'llc.cisco_pid', type: 'uint', hexDigits: 4, label: 'PID' },
  },
  register: [{ table: 'ieee802.3', key: 0 }, { table: Table.LINK, key: LinkType.ATM_RFC1483 }],
  dissect(view, ctx, f) {
    const dsap = ctx.add(f.dsap, 0, 1)
    ctx.set(f.dsapSap, dsap >> 1)
    ctx.set(f.dsapIg, dsap & 1)
    const ssap = ctx.add(f.ssap, 1, 1)
    ctx.set(f.ssapSap, ssap >> 1)
    const response = ssap & 1
    ctx.set(f.ssapCr, response)
    const c0 = view.u8(2)
    let at
    if ((c0 & 3) === 3) {
      // Unnumbered: one byte, the modifier in bits 2-3 and 5-7 (IEEE 802.2 section 5.4.1.3).
      ctx.set(f.control, c0)
      ctx.set(response ? f.uResp : f.uCmd, c0 & 0xec)
      ctx.set(f.ftype, 3)
      at = 3
    } else {
      // Information and supervisory frames: two bytes, little-endian as Wireshark reads them.
      const c = c0 | (view.u8(3) << 8)
      ctx.set(f.control, c)
      ctx.set(f.nr, c >> 9)
      if ((c0 & 1) === 0) {
        ctx.set(f.ns, (c >> 1) & 0x7f)
        ctx.set(f.ftype, 0)
      } else {
        ctx.set(f.sFtype, c0 & 0x0c)
        ctx.set(f.ftype, 1)
      }
      ctx.set(response ? f.f : f.p, (c >> 8) & 1)
      at = 4
    }
    if (dsap !== LlcSap.SNAP || ssap !== LlcSap.SNAP) return ctx.next(Table.LLC_DSAP, dsap, at)
    const oui = ctx.add(f.oui, at, 3)
    const pid = view.u16(at + 3)
    if (oui === OUI_ENCAP_ETHER || oui === OUI_CISCO_90) {
      ctx.set(f.type, pid)
      return ctx.next(Table.ETHERTYPE, pid, at + 5)
    }
    if (oui === OUI_CISCO) {
      ctx.set(f.ciscoPid, pid)
      return ctx.next(Table.LLC_CISCO_PID, pid, at + 5)
    }
    if (!OWN_PID_FIELD.has(oui)) ctx.set(f.pid, pid)
    ctx.next('llc.pid', pid, at + 5)
  },
})
