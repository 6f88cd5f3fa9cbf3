#!/usr/bin/env node
// Writes dist/builtin-dissectors.json after a build: what each shipped plugin declares, so that a
// run registers them without importing their code (src/dissect/builtin-index.ts).
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeBuiltinIndex } from '../dist/dissect/builtin-index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { indexed, left } = writeBuiltinIndex(root)
console.log(`netkit: indexed ${indexed.length} shipped plugins in dist/builtin-dissectors.json${left.length > 0 ? ` (imported up front: ${left.join(', ')})` : ''}`)
