/**
 * Parses the text of `tshark -q -z ...` (and of `netkit stats`, which prints the same layout) into
 * comparable rows: each table keyed by its title, its data lines with runs of blanks collapsed.
 */

/** The tables of one output, by kind: `conv:TCP`, `endpoints:IPv4`, `io,phs`, `http,tree`, `expert`, `io,stat`. */
export type Tables = Map<string, string[]>

const collapse = (l: string) => l.trim().replace(/\s+/g, ' ')

/** Splits one output into its tables. */
export function parseTables(out: string): Tables {
  const tables: Tables = new Map()
  const lines = out.split('\n')
  let kind: string | undefined
  let rows: string[] = []
  let depthNames: string[] = []
  const close = () => { if (kind !== undefined) tables.set(kind, [...(tables.get(kind) ?? []), ...rows]); kind = undefined; rows = [] }
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]
    let m: RegExpExecArray | null
    if ((m = /^(Ethernet|IPv4|IPv6|TCP|UDP) (Conversations|Endpoints)$/.exec(l))) {
      close(); kind = `${m[2] === 'Conversations' ? 'conv' : 'endpoints'}:${m[1]}`; i += m[2] === 'Conversations' ? 3 : 2; continue
    }
    if (l === 'Protocol Hierarchy Statistics') { close(); kind = 'io,phs'; depthNames = []; i += 2; continue }
    if (l === 'HTTP/Packet Counter:') { close(); kind = 'http,tree'; i += 2; continue }
    if ((m = /^(Errors|Warns|Notes|Chats) \(\d+\)$/.exec(l))) { if (kind !== 'expert') close(); kind = 'expert'; i += 2; rows.push(`# ${m[1]}`); continue }
    if (l.startsWith('| IO Statistics')) { close(); kind = 'io,stat'; continue }
    if (kind === undefined) continue
    if (/^=+$/.test(l) || /^-+$/.test(l)) { if (kind !== 'io,stat' && kind !== 'expert') close(); else if (kind === 'io,stat' && /^=+$/.test(l)) close(); continue }
    if (l.trim() === '') { if (kind === 'expert') continue; continue }
    if (kind === 'io,stat') {
      if (/^\|\s*[\d.]+ <> ([\d.]+|Dur)\s*\|/.test(l)) rows.push(collapse(l.replace(/\|/g, ' ')))
      continue
    }
    if (kind === 'io,phs') {
      const mm = /^( *)(\S+)\s+frames:(\d+) bytes:(\d+)$/.exec(l)
      if (mm) {
        const depth = mm[1].length / 2
        depthNames = [...depthNames.slice(0, depth), mm[2]]
        rows.push(`${depthNames.join('/')} ${mm[3]} ${mm[4]}`)
      }
      continue
    }
    if (kind === 'http,tree') {
      // Item name, count and percent (tshark's rate and burst columns are not compared).
      const mm = /^(\s*)(.+?)\s{2,}(\d+)\b(.*)$/.exec(l)
      if (mm) rows.push(`${mm[1].length} ${mm[2]} ${mm[3]} ${/(\d+(?:\.\d+)?%)/.exec(mm[4])?.[1] ?? ''}`)
      continue
    }
    rows.push(collapse(l))
  }
  close()
  return tables
}
