#!/usr/bin/env node
// Writes oclif.manifest.json after a build, so that starting the CLI reads one JSON file instead
// of importing every command module to list them (oclif does that when no manifest exists).
import { Config } from '@oclif/core'
import { rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const file = join(root, 'oclif.manifest.json')
rmSync(file, { force: true }) // never build a manifest from a stale one
const config = await Config.load(root)
const plugin = config.plugins.get(config.pjson.name)
const manifest = JSON.parse(JSON.stringify(plugin.manifest))
writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n')
console.log(`netkit: wrote ${Object.keys(manifest.commands).length} commands to oclif.manifest.json`)
