/**
 * netkit's library API: everything a plugin or script imports (`import { ... } from 'netkit'`).
 */
export * from './errors.js'
export * from './pcap/index.js'
export { loadConfig, validateConfig, type NetkitConfig } from './config.js'
export * from './stream/index.js'
export { defineDissector, type DissectContext, type DissectorDefinition, type TableEntry, type FieldSpec, type FieldType } from './dissect/api.js'
export { ByteView, TRUNCATED } from './dissect/byte-view.js'
export { InfoLine } from './dissect/info-line.js'
export { DissectorRegistry } from './dissect/registry.js'
export { DissectionEngine } from './dissect/engine.js'
export { loadDissectors } from './dissect/plugin-loader.js'
export { ipv6Text } from './dissect/field-types.js'
export * from './http/index.js'
export { openLive, LiveCapture, MAX_SNAPLEN, type LiveCaptureOptions, type LiveCaptureStats, type WriteToResult } from './capture/live-capture.js'
export { listInterfaces, findInterface, type NetworkInterface } from './capture/interfaces.js'
export { encodeBpfProgram, parseBpfDd } from './capture/bpf-program.js'
export { compileFilter, programFilter, encodeProgram, formatProgram, formatProgramC, formatProgramDecimal, BatchFilter, DEFAULT_SNAPLEN, type CompileOptions, type CompiledProgram, type BpfInstruction, type CompiledFilter } from './filter/index.js'
