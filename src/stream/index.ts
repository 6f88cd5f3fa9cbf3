/** TCP conversations, reassembly, and HTTP read back from the wire. */
export { TcpConversations, type TcpConversation, type TcpSegmentFacts, type FlowSide, type SegmentPlace } from './tcp-conversations.js'
export { FlowTable } from './flow-table.js'
export { Reassembler, ReassemblyBudget, seqDiff, type StreamSink } from './reassembler.js'
export { TcpSegmentReader, addressText } from './tcp-segment.js'
export { TcpTracker, type ConversationHandler, type ConversationSinks } from './tcp-tracker.js'
export { HttpWireParser, type WireMessage } from './http-wire.js'
export { HttpTransactionLog, formatTransaction, transactionJson, type HttpTransaction } from './http-log.js'
export { trackFile } from './track-file.js'
