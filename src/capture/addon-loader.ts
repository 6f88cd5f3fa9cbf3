/**
 * Where netkit's addons (native/binding.gyp: netkit_capture, netkit_socket) are loaded from, in
 * node-gyp-build's order: a compiled build (native/build/Release, then Debug: a clone, or an
 * install that had to compile) and then a prebuild shipped in the package
 * (prebuilds/<platform>-<arch>/<addon>.napi.node, made by scripts/prebuild.js with prebuildify).
 * One prebuilds folder holds both addons, so the prebuild is chosen with node-gyp-build's own
 * matching (platform/arch tuple, then runtime/N-API/libc tags) among the files of that addon's name.
 */
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package root (src/capture or dist/capture, two up). */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const require = createRequire(import.meta.url)

/** A place an addon may be loaded from. */
export interface AddonCandidate {
  path: string
  from: 'compiled' | 'prebuild' | 'NETKIT_CAPTURE_ADDON'
}

interface Tags { file: string }
interface NodeGypBuild {
  parseTuple(name: string): { name: string } | undefined
  matchTuple(platform: string, arch: string): (t: { name: string } | undefined) => boolean
  compareTuples(a: unknown, b: unknown): number
  parseTags(file: string): Tags | undefined
  matchTags(runtime: string, abi: string): (t: Tags | undefined) => boolean
  compareTags(runtime: string): (a: Tags, b: Tags) => number
}

/** The prebuild of `addon` that node-gyp-build's rules pick for this Node, or undefined. */
export function prebuildPath(addon: string, root = packageRoot): string | undefined {
  const dir = join(root, 'prebuilds')
  if (!existsSync(dir)) return undefined
  let ngb: NodeGypBuild
  try {
    ngb = require('node-gyp-build/node-gyp-build.js') as NodeGypBuild
  } catch {
    return undefined
  }
  const tuple = readdirSync(dir).map(ngb.parseTuple).filter(ngb.matchTuple(process.platform, process.arch)).sort(ngb.compareTuples)[0]
  if (!tuple) return undefined
  const files = readdirSync(join(dir, tuple.name)).filter((f) => f.startsWith(`${addon}.`))
  const winner = files.map(ngb.parseTags).filter((t): t is Tags => ngb.matchTags('node', process.versions.modules)(t)).sort(ngb.compareTags('node'))[0]
  return winner ? join(dir, tuple.name, winner.file) : undefined
}

/** Every place `addon` may be loaded from, in the order tried. */
export function addonCandidates(addon: string, root = packageRoot): AddonCandidate[] {
  const list: AddonCandidate[] = ['Release', 'Debug'].map((b) => ({ path: join(root, 'native', 'build', b, `${addon}.node`), from: 'compiled' as const }))
  const prebuild = prebuildPath(addon, root)
  list.push({ path: prebuild ?? join(root, 'prebuilds', `${process.platform}-${process.arch}`, `${addon}.napi.node`), from: 'prebuild' })
  return list
}

/** An addon loaded, or why it could not be: each place tried and what went wrong there. */
export type AddonLoad<T> = { module: T; path: string; from: AddonCandidate['from'] } | { module?: undefined; tried: string[] }

const loaded = new Map<string, AddonLoad<unknown>>()

/** Loads `addon` from the first candidate that loads (memoized); never throws. */
export function loadAddon<T>(addon: string, candidates = addonCandidates(addon)): AddonLoad<T> {
  const key = `${addon}\0${candidates.map((c) => c.path).join('\0')}`
  const known = loaded.get(key)
  if (known) return known as AddonLoad<T>
  const tried: string[] = []
  let result: AddonLoad<T> | undefined
  for (const c of candidates) {
    if (!existsSync(c.path)) { tried.push(`${c.path}: not found`); continue }
    try {
      result = { module: require(c.path) as T, path: c.path, from: c.from }
      break
    } catch (err) {
      tried.push(`${c.path}: ${(err as Error).message.split('\n')[0]}`)
    }
  }
  result ??= { tried }
  loaded.set(key, result)
  return result
}
