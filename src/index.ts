/**
 * netkit's library API: everything a plugin or script imports (`import { ... } from 'netkit'`);
 * the part a dissector plugin needs is also 'netkit/plugin' (src/plugin.ts).
 */
export * from './errors.js'
export * from './pcap/index.js'
export { loadConfig, validateConfig, type NetkitConfig } from './config.js'
export * from './stream/index.js'
export * from './plugin.js'
export { parseDecodeAs, applyDecodeAs, type DecodeAsRule } from './dissect/decode-as.js'
export { DissectorRegistry } from './dissect/registry.js'
export { DissectionEngine, mergeNeeds, type DissectionNeeds } from './dissect/engine.js'
export { DissectedPacket, type PacketLayer, type FieldValue, type FieldOccurrences } from './dissect/dissected-packet.js'
export { PacketSelector, type PacketPredicate } from './dissect/packet-selector.js'
export { readPackets, dissect, type DissectOptions, type ReadPacketsOptions } from './dissect/read-packets.js'
export { compileDisplayFilter, type CompiledDisplayFilter } from './dfilter/index.js'
export { loadDissectors, loadPlugins } from './dissect/plugin-loader.js'
export * from './http/index.js'
export { openLive, LiveCapture, MAX_SNAPLEN, type LiveCaptureOptions, type LiveCaptureStats, type WriteToResult } from './capture/live-capture.js'
export { listInterfaces, findInterface, type NetworkInterface } from './capture/interfaces.js'
export { encodeBpfProgram, parseBpfDd } from './capture/bpf-program.js'
export { compileFilter, programFilter, encodeProgram, formatProgram, formatProgramC, formatProgramDecimal, BatchFilter, DEFAULT_SNAPLEN, type CompileOptions, type CompiledProgram, type BpfInstruction, type CompiledFilter } from './filter/index.js'
