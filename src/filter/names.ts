/**
 * Name lookups for filter ids: services (`port http`), protocols (`ip proto \tcp`), hosts
 * (`host localhost`), networks (`net localnet`), as libpcap resolves them through
 * getservbyname/getprotobyname/getaddrinfo/getnetbyname. netkit reads /etc/services,
 * /etc/protocols, /etc/hosts and /etc/networks itself (no DNS: a name not there is an error),
 * with a built-in table for machines that lack the first two.
 */
import { readFileSync } from 'node:fs'

const builtinServices: Record<string, number> = {
  'ftp-data': 20, ftp: 21, ssh: 22, telnet: 23, smtp: 25, domain: 53, bootps: 67, bootpc: 68, tftp: 69, http: 80,
  www: 80, pop3: 110, sunrpc: 111, ntp: 123, netbios_ns: 137, imap: 143, snmp: 161, bgp: 179, ldap: 389, https: 443,
  syslog: 514, submission: 587, imaps: 993, pop3s: 995, 'ms-sql-s': 1433, nfs: 2049, mysql: 3306, postgresql: 5432,
}
const builtinProtocols: Record<string, number> = {
  ip: 0, icmp: 1, igmp: 2, ggp: 3, ipencap: 4, st: 5, tcp: 6, egp: 8, igp: 9, pup: 12, udp: 17, hmp: 20, 'xns-idp': 22,
  rdp: 27, 'iso-tp4': 29, dccp: 33, xtp: 36, ddp: 37, 'idpr-cmtp': 38, ipv6: 41, 'ipv6-route': 43, 'ipv6-frag': 44,
  idrp: 45, rsvp: 46, gre: 47, esp: 50, ah: 51, skip: 57, 'ipv6-icmp': 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60, rspf: 73,
  vmtp: 81, eigrp: 88, ospf: 89, 'ax.25': 93, ipip: 94, etherip: 97, encap: 98, pim: 103, ipcomp: 108, vrrp: 112,
  l2tp: 115, isis: 124, sctp: 132, fc: 133, 'mobility-header': 135, udplite: 136, 'mpls-in-ip': 137, hip: 139,
  shim6: 140, wesp: 141, rohc: 142, ethernet: 143,
}

let services: Map<string, { tcp?: number; udp?: number }> | undefined
let protocols: Map<string, number> | undefined
let hosts: Map<string, string[]> | undefined
let networks: Map<string, number> | undefined

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter((l) => l !== '')
  } catch {
    return []
  }
}

/** The port a service name stands for, per transport, from /etc/services (or built-in). */
export function lookupService(name: string): { tcp?: number; udp?: number } | undefined {
  if (!services) {
    services = new Map()
    for (const line of readLines('/etc/services')) {
      const [svc, portProto, ...aliases] = line.split(/\s+/)
      const m = /^(\d+)\/(tcp|udp|sctp)$/.exec(portProto ?? '')
      if (!m || m[2] === 'sctp') continue
      for (const n of [svc, ...aliases]) {
        const e = services.get(n) ?? {}
        if (e[m[2] as 'tcp' | 'udp'] === undefined) e[m[2] as 'tcp' | 'udp'] = Number(m[1])
        services.set(n, e)
      }
    }
    for (const [n, p] of Object.entries(builtinServices)) if (!services.has(n)) services.set(n, { tcp: p, udp: p })
  }
  return services.get(name)
}

/** The IP protocol number a name stands for, from /etc/protocols (or built-in). */
export function lookupProtocol(name: string): number | undefined {
  if (!protocols) {
    protocols = new Map()
    for (const line of readLines('/etc/protocols')) {
      const [n, num, ...aliases] = line.split(/\s+/)
      if (!/^\d+$/.test(num ?? '')) continue
      for (const a of [n, ...aliases]) if (!protocols.has(a)) protocols.set(a, Number(num))
    }
    for (const [n, p] of Object.entries(builtinProtocols)) if (!protocols.has(n)) protocols.set(n, p)
  }
  return protocols.get(name)
}

/** The addresses a host name has in /etc/hosts (IPv4 and IPv6 text forms), or []. */
export function lookupHost(name: string): string[] {
  if (!hosts) {
    hosts = new Map()
    for (const line of readLines('/etc/hosts')) {
      const [addr, ...names] = line.split(/\s+/)
      for (const n of names) hosts.set(n.toLowerCase(), [...(hosts.get(n.toLowerCase()) ?? []), addr])
    }
  }
  return hosts.get(name.toLowerCase()) ?? []
}

/**
 * The network number a name has in /etc/networks (networks(5): name, number, aliases; names
 * match without regard to case), as glibc's getnetbyname(3) gives it: the number padded with
 * `.0` parts to four, then read by inet_network(3) (parts in decimal, 0x hex or 0 octal), so
 * `10.215` is 10.215.0.0 (which libpcap then takes as one host address). Undefined when absent.
 */
export function lookupNetwork(name: string): number | undefined {
  if (!networks) {
    networks = new Map()
    for (const line of readLines('/etc/networks')) {
      const [n, num, ...aliases] = line.split(/\s+/)
      const v = inetNetwork(num ?? '')
      if (v === undefined) continue
      for (const a of [n, ...aliases]) if (!networks.has(a.toLowerCase())) networks.set(a.toLowerCase(), v)
    }
  }
  return networks.get(name.toLowerCase())
}

function inetNetwork(text: string): number | undefined {
  const parts = text.split('.')
  while (parts.length < 4) parts.push('0')
  if (parts.length > 4 || parts.some((p) => !/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(p))) return undefined
  let v = 0
  for (const p of parts) {
    const n = /^0[xX]/.test(p) ? parseInt(p.slice(2), 16) : p.length > 1 && p.startsWith('0') ? parseInt(p, 8) : parseInt(p, 10)
    if (Number.isNaN(n) || n > 255) return undefined
    v = v * 256 + n
  }
  return v >>> 0
}
