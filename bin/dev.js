#!/usr/bin/env -S node --import tsx --no-warnings
// Runs netkit from the TypeScript sources (no build step); oclif loads src/commands through tsx.
import { execute } from '@oclif/core'
import { reportFatal } from '../src/cli/fatal.ts'

await execute({ development: true, dir: import.meta.url }).catch(reportFatal)
