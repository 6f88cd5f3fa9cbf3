/**
 * PACKET_FANOUT groups (packet(7)): several capture sockets on one interface, each with its own
 * ring, among which the kernel splits the packets: by flow hash (`hash`, both directions of a
 * flow to one socket), round robin (`lb`), by CPU (`cpu`), filling one before the next
 * (`rollover`), by recorded queue (`qm`). Flags: `defrag` (reassemble IP fragments before
 * hashing, so a fragmented flow stays whole) and `rollover` (move on when a socket's ring is
 * full). The socket option packs id | (mode | flags) << 16 into 32 bits; DEFRAG is bit 31, so the
 * value is unsigned. Groups live per network namespace.
 *
 * The kernel refuses a socket whose mode, flags or interface differ from the group's with
 * EINVAL and says no more; so each member records what it joined with (a small file per group
 * and namespace in the temp folder) and a refused one names the difference.
 */
import { readFileSync, readlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CaptureError, InvalidArgumentError } from '../errors.js'

/** Fan-out modes (linux/if_packet.h PACKET_FANOUT_*). */
export const FanoutMode = { hash: 0, lb: 1, cpu: 2, rollover: 3, qm: 5 } as const
/** Fan-out flags (PACKET_FANOUT_FLAG_*), as they sit in the mode half-word. */
export const FanoutFlag = { rollover: 0x1000, defrag: 0x8000 } as const

/** A parsed `--fanout ID[:MODE][,FLAG]...`. */
export interface FanoutSpec {
  id: number
  mode: keyof typeof FanoutMode
  flags: Array<keyof typeof FanoutFlag>
  /** The setsockopt argument (unsigned 32-bit). */
  value: number
}

const USAGE = '--fanout ID[:hash|lb|cpu|rollover|qm][,defrag][,rollover] (ID 0-65535)'

/** Parses `--fanout`; a bad value is a usage error naming the part that is wrong. */
export function parseFanout(text: string): FanoutSpec {
  const [head, ...flagWords] = text.split(',')
  const [idText, modeText = 'hash'] = head.split(':')
  const id = Number(idText)
  if (!/^\d+$/.test(idText) || id > 0xffff) throw new InvalidArgumentError(`bad fan-out group id '${idText}': ${USAGE}`)
  if (!(modeText in FanoutMode)) throw new InvalidArgumentError(`unknown fan-out mode '${modeText}': ${USAGE}`)
  const flags: FanoutSpec['flags'] = []
  for (const w of flagWords) {
    if (!(w in FanoutFlag)) throw new InvalidArgumentError(`unknown fan-out flag '${w}': ${USAGE}`)
    if (!flags.includes(w as keyof typeof FanoutFlag)) flags.push(w as keyof typeof FanoutFlag)
  }
  const mode = modeText as FanoutSpec['mode']
  let type: number = FanoutMode[mode]
  for (const f of flags) type |= FanoutFlag[f]
  return { id, mode, flags, value: (id | (type << 16)) >>> 0 }
}

/** The spec as the user writes it. */
export function fanoutText(s: Pick<FanoutSpec, 'id' | 'mode' | 'flags'>): string {
  return `${s.id}:${s.mode}${s.flags.map((f) => `,${f}`).join('')}`
}

interface Member { interface: string; mode: string; flags: string[]; pid: number }

function memberFile(id: number): string {
  let ns = 'net'
  try {
    ns = readlinkSync('/proc/self/ns/net').replace(/\D/g, '')
  } catch { /* no /proc: one file for all namespaces */ }
  return join(tmpdir(), `netkit-fanout-${ns}-${id}.json`)
}

/** Whether process `pid` exists (signal 0; EPERM means it exists under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Records this process as a member of the group (unless a live member recorded it first). */
export function recordFanoutMember(spec: FanoutSpec, iface: string): void {
  const path = memberFile(spec.id)
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as Member
    if (processAlive(m.pid) && m.pid !== process.pid) return
  } catch { /* none yet */ }
  try {
    writeFileSync(path, JSON.stringify({ interface: iface, mode: spec.mode, flags: spec.flags, pid: process.pid } satisfies Member))
  } catch { /* the record only improves error messages */ }
  // The record goes with the process that wrote it (unless another member took it over).
  process.once('exit', () => {
    try {
      if ((JSON.parse(readFileSync(path, 'utf8')) as Member).pid === process.pid) unlinkSync(path)
    } catch { /* gone already */ }
  })
}

/** The error for a socket the kernel would not let into the group: what differs, when known. */
export function fanoutConflict(spec: FanoutSpec, iface: string, cause: unknown): CaptureError {
  let m: Member | undefined
  try {
    m = JSON.parse(readFileSync(memberFile(spec.id), 'utf8')) as Member
    if (!processAlive(m.pid)) m = undefined
  } catch { /* unknown */ }
  if (m) {
    const diffs: string[] = []
    if (m.interface !== iface) diffs.push(`interface ${m.interface}, not ${iface}`)
    if (m.mode !== spec.mode || [...m.flags].sort().join() !== [...spec.flags].sort().join()) {
      diffs.push(`mode ${fanoutText({ id: spec.id, mode: m.mode as FanoutSpec['mode'], flags: m.flags as FanoutSpec['flags'] })}, not ${fanoutText(spec)}`)
    }
    if (diffs.length > 0) {
      return new CaptureError(`fan-out group ${spec.id} exists with ${diffs.join(' and ')} (pid ${m.pid} joined it)`, { hint: 'join with the same interface and mode, or use another group id', cause })
    }
  }
  return new CaptureError(`fan-out group ${spec.id} exists with another interface, mode or flags than ${iface} ${fanoutText(spec)}`, { hint: 'join with the same interface and mode, or use another group id', cause })
}
