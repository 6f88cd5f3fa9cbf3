/**
 * The machine's network interfaces as /sys/class/net describes them (see sysfs-class-net in the
 * kernel's ABI docs): what `netkit interfaces` lists and what `openLive` resolves names with.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { LinkType } from '../pcap/link-types.js'

/** One network interface. */
export interface NetworkInterface {
  index: number
  name: string
  /** MAC address (`address`), empty when the link has none. */
  mac: string
  mtu: number
  /** Names of the IFF_* flags set (netdevice(7)), e.g. `UP`, `BROADCAST`, `PROMISC`. */
  flags: string[]
  /** IFF_UP: administratively up. */
  up: boolean
  /** IFF_RUNNING: up with an operational link (what `ip link` shows as RUNNING/LOWER_UP). */
  running: boolean
  /** IFF_LOOPBACK. */
  loopback: boolean
  /** IFF_PROMISC: promiscuous (some packet socket or the admin asked for it). */
  promisc: boolean
  /** operstate (RFC 2863): up, down, unknown, ... */
  operstate: string
  /** ARPHRD_* hardware type (1 Ethernet, 772 loopback, 65534 none). */
  arpType: number
  /** The link type `netkit capture -i NAME` writes (LINKTYPE_*). */
  linkType: number
}

/** ARPHRD_* values (linux/if_arp.h) whose frames a capture keeps as they are. */
const ARPHRD_ETHER = 1
const ARPHRD_LOOPBACK = 772
const ARPHRD_NONE = 65534

/**
 * The link type and socket kind a capture uses for a hardware type, after libpcap's
 * map_arphrd_to_dlt: Ethernet and loopback frames as they are, tun (no header) as raw IP, and
 * everything else through a cooked socket with LINUX_SLL2 headers.
 */
export function captureLink(arpType: number): { linkType: number; cooked: boolean } {
  if (arpType === ARPHRD_ETHER || arpType === ARPHRD_LOOPBACK) return { linkType: LinkType.EN10MB, cooked: false }
  if (arpType === ARPHRD_NONE) return { linkType: LinkType.RAW, cooked: false }
  return { linkType: LinkType.LINUX_SLL2, cooked: true }
}

const SYS = '/sys/class/net'

/** IFF_* bits from linux/if.h, in the order `ip link` prints them. */
const FLAG_BITS: Array<[number, string]> = [
  [0x8, 'LOOPBACK'], [0x2, 'BROADCAST'], [0x10, 'POINTOPOINT'], [0x1000, 'MULTICAST'], [0x80, 'NOARP'],
  [0x200, 'ALLMULTI'], [0x100, 'PROMISC'], [0x1, 'UP'], [0x40, 'RUNNING'], [0x10000, 'LOWER_UP'], [0x20000, 'DORMANT'],
]

function read(name: string, attr: string): string {
  try {
    return readFileSync(join(SYS, name, attr), 'utf8').trim()
  } catch {
    return ''
  }
}

/** The interface called `name`, or undefined when there is none. */
export function findInterface(name: string): NetworkInterface | undefined {
  if (name === '' || name.includes('/') || name === '.' || name === '..') return undefined
  const index = Number.parseInt(read(name, 'ifindex'), 10)
  if (!Number.isInteger(index)) return undefined
  const flagsWord = Number.parseInt(read(name, 'flags') || '0', 16)
  const operstate = read(name, 'operstate')
  const carrier = read(name, 'carrier') === '1'
  const up = (flagsWord & 0x1) !== 0
  // sysfs `flags` is dev->flags; RUNNING and LOWER_UP are derived as dev_get_flags() does.
  const running = up && (operstate === 'up' || operstate === 'unknown')
  const bits = flagsWord | (running ? 0x40 : 0) | (carrier && up ? 0x10000 : 0)
  const mac = read(name, 'address')
  const arpType = Number.parseInt(read(name, 'type') || '0', 10)
  return {
    index,
    name,
    mac: /^0{2}(:0{2})*$/.test(mac) && read(name, 'type') !== '1' ? '' : mac,
    mtu: Number.parseInt(read(name, 'mtu') || '0', 10),
    flags: FLAG_BITS.filter(([bit]) => bits & bit).map(([, n]) => n),
    up,
    running,
    loopback: (flagsWord & 0x8) !== 0,
    promisc: (flagsWord & 0x100) !== 0,
    operstate,
    arpType,
    linkType: captureLink(arpType).linkType,
  }
}

/** Every interface of this network namespace, by index. */
export function listInterfaces(): NetworkInterface[] {
  let names: string[]
  try {
    names = readdirSync(SYS)
  } catch {
    return []
  }
  return names.map(findInterface).filter((i): i is NetworkInterface => i !== undefined).sort((a, b) => a.index - b.index)
}
