#!/usr/bin/env -S node --import tsx --no-warnings
// Runs netkit from the TypeScript sources (no build step); oclif loads src/commands through tsx.
import { flush, run } from '@oclif/core'
import { reportFatal } from '../src/cli/fatal.ts'

process.env.NODE_ENV = 'development'
await run(process.argv.slice(2), import.meta.url).then(() => flush(), reportFatal)
