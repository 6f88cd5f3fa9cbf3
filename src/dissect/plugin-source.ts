/**
 * Where a configured plugin's code is and how it is imported: a `.js`/`.mjs`/`.ts`/`.mts` file,
 * a folder with a package.json, or a package name found in node_modules from the
 * configuration's folder (as Node resolves packages). TypeScript is compiled as it is imported
 * (tsx), and that compiler is loaded only when a TypeScript plugin is configured.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { PluginError } from '../errors.js'

const TS = /\.(ts|mts|cts)$/
/** Files tried, in order, in a package folder whose package.json names no entry. */
const INDEX_FILES = ['index.js', 'index.mjs', 'index.ts', 'index.mts']

/** The entry file of the package in `dir`: package.json's exports ('.'), then main, then index.*. */
function packageEntry(dir: string, what: string): string {
  const manifest = join(dir, 'package.json')
  let pkg: { exports?: unknown; main?: unknown } = {}
  if (existsSync(manifest)) {
    try {
      pkg = JSON.parse(readFileSync(manifest, 'utf8'))
    } catch (err) {
      throw new PluginError(`plugin ${what}: ${manifest} is not valid JSON`, { cause: err })
    }
  }
  let exp = pkg.exports
  if (exp !== null && typeof exp === 'object' && '.' in exp) exp = (exp as Record<string, unknown>)['.']
  if (exp !== null && typeof exp === 'object') {
    const conditions = exp as Record<string, unknown>
    exp = conditions.import ?? conditions.default ?? conditions.node
  }
  const named = typeof exp === 'string' ? exp : typeof pkg.main === 'string' ? pkg.main : undefined
  if (named !== undefined) {
    const file = resolve(dir, named)
    if (!existsSync(file)) throw new PluginError(`plugin ${what}: ${manifest} names ${named}, which does not exist`)
    return file
  }
  const index = INDEX_FILES.map((f) => join(dir, f)).find((f) => existsSync(f))
  if (index === undefined) throw new PluginError(`plugin ${what}: ${dir} has no package.json entry ("exports" or "main") and no ${INDEX_FILES.join('/')}`)
  return index
}

/**
 * The file to import for plugin `spec` (an absolute path or a package name), packages being
 * looked for in node_modules folders from `baseDir` up, as Node looks for them.
 */
export function pluginFile(spec: string, baseDir: string): string {
  if (spec.startsWith('/')) {
    if (!existsSync(spec)) throw new PluginError(`plugin ${spec}: no such file or folder`)
    return statSync(spec).isDirectory() ? packageEntry(spec, spec) : spec
  }
  for (let dir = resolve(baseDir); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', spec)
    if (existsSync(candidate)) return packageEntry(candidate, spec)
    if (dirname(dir) === dir) break
  }
  throw new PluginError(`plugin ${spec}: no package '${spec}' in node_modules from ${baseDir} up (install it there: npm install ${spec})`)
}

/**
 * Whether `import ... from 'netkit'` in `file` finds the netkit at `packageRoot` without help:
 * the package.json scope of the file is not another package named netkit (whose self-reference
 * Node would take), and the first node_modules/netkit up from the file is `packageRoot` itself
 * (a link, as `netkit dissectors new` makes one). Node resolves the link to its real path, so the
 * plugin shares this netkit's modules.
 */
export function findsNetkit(file: string, packageRoot: string): boolean {
  try {
    const root = realpathSync(packageRoot)
    for (let dir = dirname(file); ; dir = dirname(dir)) {
      const manifest = join(dir, 'package.json')
      if (existsSync(manifest)) {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'netkit' && realpathSync(dir) !== root) return false
        break
      }
      if (dirname(dir) === dir) break
    }
    for (let dir = dirname(file); ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', 'netkit')
      if (existsSync(candidate)) return realpathSync(candidate) === root
      if (dirname(dir) === dir) return false
    }
  } catch {
    return false // an unreadable package.json or link: let the hook resolve it
  }
}

type TsImport = (specifier: string, parent: string) => Promise<unknown>
let tsImport: Promise<TsImport> | undefined

/** Imports a plugin file; TypeScript through tsx, loaded on first use. */
export async function importPlugin(file: string): Promise<{ default?: unknown }> {
  const url = pathToFileURL(file).href
  if (!TS.test(file)) return import(url) as Promise<{ default?: unknown }>
  tsImport ??= import('tsx/esm/api').then((m) => m.tsImport as TsImport)
  return (await tsImport)(url, import.meta.url) as Promise<{ default?: unknown }>
}

/**
 * The message for a plugin that failed to import or to evaluate, with the plugin's file and
 * line where the error says (a syntax error, or a throw in its top-level code).
 */
export function loadFailure(file: string, err: unknown): string {
  const text = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err)
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const at = new RegExp(`(?:file://)?${escaped}:(\\d+)(?::(\\d+))?`).exec(text)
  const lines = (err instanceof Error ? err.message : String(err)).split('\n').map((l) => l.trim()).filter((l) => l !== '')
  // A compiler's message puts the reason after the location ("x.ts:3:7: ERROR: Expected ';'").
  let reason = lines.find((l) => /ERROR:/.test(l))?.replace(/^.*?ERROR:\s*/, '') ?? lines[0] ?? 'unknown error'
  reason = reason.replace(new RegExp(`^(?:file://)?${escaped}:\\d+(?::\\d+)?:?\\s*`), '')
  // tsx compiles a .ts file to CommonJS unless its package is "type": "module"; CommonJS cannot
  // import netkit (an ES module) on Node 20.
  if (TS.test(file) && /Cannot find (module|package) 'netkit'/.test(reason)) reason += ' (a .ts plugin is loaded as an ES module only when its package.json says "type": "module"; or name it .mts)'
  const where = at ? `${file}:${at[1]}${at[2] ? `:${at[2]}` : ''}` : file
  return `plugin ${where} failed to load: ${reason}`
}
