#!/usr/bin/env node
// Runs netkit from the TypeScript sources (no build step); oclif loads src/commands through tsx.
import { register } from 'tsx/esm/api'
import { flush, run } from '@oclif/core'

register()
const { reportFatal } = await import('../src/cli/fatal.ts')
process.env.NODE_ENV = 'development'
await run(process.argv.slice(2), import.meta.url).then(() => flush(), reportFatal)
