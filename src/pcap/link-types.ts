/**
 * LINKTYPE_* values (https://www.tcpdump.org/linktypes.html) that netkit names, with the names
 * tcpdump prints (`link-type EN10MB (Ethernet)`).
 */

/** Link-layer header type numbers, as stored in pcap and pcapng files. */
export const LinkType = {
  NULL: 0,
  EN10MB: 1,
  PPP: 9,
  PPP_HDLC: 50,
  RAW: 101,
  C_HDLC: 104,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const

interface LinkTypeName {
  name: string
  description: string
}

const names: Record<number, LinkTypeName> = {
  0: { name: 'NULL', description: 'BSD loopback' },
  1: { name: 'EN10MB', description: 'Ethernet' },
  9: { name: 'PPP', description: 'PPP' },
  50: { name: 'PPP_SERIAL', description: 'PPP over serial' },
  101: { name: 'RAW', description: 'Raw IP' },
  104: { name: 'C_HDLC', description: 'Cisco HDLC' },
  105: { name: 'IEEE802_11', description: '802.11' },
  108: { name: 'LOOP', description: 'OpenBSD loopback' },
  113: { name: 'LINUX_SLL', description: 'Linux cooked v1' },
  127: { name: 'IEEE802_11_RADIO', description: '802.11 plus radiotap header' },
  147: { name: 'USER0', description: 'DLT 147' },
  228: { name: 'IPV4', description: 'Raw IPv4' },
  229: { name: 'IPV6', description: 'Raw IPv6' },
  276: { name: 'LINUX_SLL2', description: 'Linux cooked v2' },
}

/** tcpdump's short name for a link type (`EN10MB`), or `DLT_<n>` for one netkit does not name. */
export function linkTypeName(linkType: number): string {
  return names[linkType]?.name ?? `LINKTYPE_${linkType}`
}

/** tcpdump's description of a link type (`Ethernet`). */
export function linkTypeDescription(linkType: number): string {
  return names[linkType]?.description ?? `link type ${linkType}`
}

/** The link type with this name (`EN10MB`, `ethernet`, `raw`, `linux_sll2`, or a number). */
export function linkTypeByName(name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name)
  const upper = name.toUpperCase().replace(/^(DLT|LINKTYPE)_/, '')
  if (upper === 'ETHERNET') return LinkType.EN10MB
  for (const [value, n] of Object.entries(names)) if (n.name === upper) return Number(value)
  return undefined
}

/** Bytes of link-layer header before the network layer, for the link types that have a fixed one. */
export function linkHeaderLength(linkType: number): number {
  switch (linkType) {
    case LinkType.EN10MB: return 14
    case LinkType.NULL: case LinkType.LOOP: return 4
    case LinkType.LINUX_SLL: return 16
    case LinkType.LINUX_SLL2: return 20
    default: return 0
  }
}

/**
 * The snapshot length libpcap uses for a file whose header says `snaplen` (pcap_adjust_snapshot
 * in libpcap's pcap-common.c): 0 or more than the link type's maximum means that maximum
 * (max_snaplen_for_dlt: 128 MiB for D-Bus, 8 MiB for EBHSCR, 1 MiB for USBPcap, else 262144).
 * tcpdump writes this value into the files it writes, and cuts longer records to it.
 */
export function libpcapSnaplen(linkType: number, snaplen: number): number {
  const max = linkType === 231 ? 128 * 1024 * 1024 : linkType === 279 ? 8 * 1024 * 1024 : linkType === 249 ? 1024 * 1024 : 262144
  return snaplen === 0 || snaplen > max ? max : snaplen
}
