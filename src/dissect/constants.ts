/**
 * Protocol numbers that dissectors and filters refer to, by name. Plugins import these from
 * 'netkit' instead of writing the numbers, so a reader sees `EtherType.IPV4`, not `0x0800`.
 * Values are the IANA/IEEE assignments; each table cites where its numbers come from.
 */
export { LinkType } from '../pcap/link-types.js'

/** IEEE 802 EtherTypes (https://standards-oui.ieee.org/ethertype/eth.txt, IANA ieee-802-numbers). */
export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  RARP: 0x8035,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  QINQ_OLD: 0x9100,
  IPV6: 0x86dd,
  PPP: 0x880b,
  MPLS: 0x8847,
  MPLS_MULTICAST: 0x8848,
  PPPOE_DISCOVERY: 0x8863,
  PPPOE_SESSION: 0x8864,
  /** Transparent Ethernet Bridging: an Ethernet frame inside GRE (RFC 1701). */
  TEB: 0x6558,
  ERSPAN_II: 0x88be,
  ERSPAN_III: 0x22eb,
  LLDP: 0x88cc,
  /** Cisco MetaData (TrustSec's Security Group Tag). */
  CISCO_METADATA: 0x8909,
  MACSEC: 0x88e5,
  /** Values up to 1500 are an 802.3 length, not a type (IEEE 802.3 clause 3.2.6). */
  MAX_8023_LENGTH: 1500,
} as const

/** IP protocol numbers (IANA protocol-numbers; RFC 8200 for the IPv6 extension headers). */
export const IpProto = {
  HOPOPTS: 0,
  ICMP: 1,
  IGMP: 2,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  SCTP: 132,
  MPLS_IN_IP: 137,
} as const

/** PPP protocol field values (IANA ppp-numbers; RFC 1332 for IPv4, RFC 5072 for IPv6). */
export const PppProtocol = {
  IPV4: 0x0021,
  IPV6: 0x0057,
} as const

/** TCP header flag bits, low 12 bits of bytes 12-13 (RFC 9293 §3.1, RFC 3168 for ECE/CWR). */
export const TcpFlags = {
  FIN: 0x001,
  SYN: 0x002,
  RST: 0x004,
  PSH: 0x008,
  ACK: 0x010,
  URG: 0x020,
  ECE: 0x040,
  CWR: 0x080,
  AE: 0x100,
} as const

/** TCP option kinds (IANA tcp-parameters; RFC 9293 section 3.2, RFC 7323 for scale and timestamps). */
export const TcpOption = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
} as const

/** Well-known TCP and UDP ports of the protocols netkit dissects (IANA service-names-port-numbers). */
export const Port = {
  DNS: 53,
  /** BOOTP/DHCP server and client (RFC 951, RFC 2131). */
  BOOTPS: 67,
  BOOTPC: 68,
  HTTPS: 443,
  /** Multicast DNS (RFC 6762). */
  MDNS: 5353,
  /** Link-Local Multicast Name Resolution (RFC 4795). */
  LLMNR: 5355,
  /** VXLAN (RFC 7348). */
  VXLAN: 4789,
  /** The port Linux's vxlan driver used before IANA's (and OTV's, so not VXLAN by default). */
  VXLAN_LINUX: 8472,
  /** Geneve (RFC 8926). */
  GENEVE: 6081,
} as const

/**
 * The dissector tables netkit's own dissectors hand on to. A plugin may use any other name too:
 * a table exists once something registers in it or hands on to it.
 */
export const Table = {
  /** LINKTYPE_* of the capture file or interface. */
  LINK: 'link',
  ETHERTYPE: 'ethertype',
  /** IP protocol number, from IPv4's protocol field and IPv6's last next-header. */
  IP_PROTO: 'ip.proto',
  /** The version nibble, for links that carry IP with no type field. */
  IP_VERSION: 'ip.version',
  TCP_PORT: 'tcp.port',
  UDP_PORT: 'udp.port',
  /**
   * A tunnel's payload by EtherType (GRE's protocol type, Geneve's): its own entries (ERSPAN,
   * Ethernet for TEB), then any `ethertype` entry, without an `ethertype` layer in frame.protocols.
   */
  GRE_PROTO: 'gre.proto',
  /** LLC's DSAP (IEEE 802.2), for protocols over 802.3 without SNAP (STP: 0x42). */
  LLC_DSAP: 'llc.dsap',
  /** SNAP's protocol id under an OUI other than 0 (`llc.cisco_pid`: CDP, PVST+ ...). */
  LLC_CISCO_PID: 'llc.cisco_pid',
} as const

/** IEEE 802.2 LLC service access points (DSAP/SSAP) netkit's plugins name. */
export const LlcSap = {
  /** Spanning Tree BPDUs (IEEE 802.1D). */
  STP: 0x42,
  /** SNAP: an OUI and protocol id follow (RFC 1042). */
  SNAP: 0xaa,
} as const
