/**
 * netkit's plugin API (`import { ... } from 'netkit/plugin'`): what a dissector plugin needs
 * (defineDissector, the byte view, protocol numbers, IP fragment and TCP conversation state,
 * HTTP/1 message framing) and nothing else. 'netkit' (src/index.ts) exports all of it too; a
 * plugin that imports it from here loads only these modules, not the library's HTTP client,
 * live capture and filter compilers, which is most of a small read's start-up (see
 * docs/performance.md, "Start-up: plugins on 'netkit/plugin'").
 */
export { defineDissector, type DissectContext, type DissectorDefinition, type TableEntry, type FieldSpec, type FieldType, type PreferenceSpec, type PreferenceValues, type StreamPosition } from './dissect/api.js'
export { dissectPdus, type PduFraming } from './dissect/pdus.js'
export { ByteView, TRUNCATED } from './dissect/byte-view.js'
export { InfoLine } from './dissect/info-line.js'
export { FragmentTable, type FragmentLimits, type Reassembled } from './dissect/fragment-table.js'
export { ipv6Text } from './dissect/field-types.js'
export { EtherType, IpProto, LlcSap, Port, PppProtocol, TcpFlags, TcpOption, Table, LinkType } from './dissect/constants.js'
export { TcpConversations, TIME_WAIT_SECONDS, type TcpConversation, type TcpSegmentFacts, type FlowSide, type SegmentPlace } from './stream/tcp-conversations.js'
export { FlowTable, SweepSchedule } from './stream/flow-table.js'
export * from './http/framing.js'
