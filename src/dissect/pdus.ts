/**
 * dissectPdus: length-prefixed messages over a byte stream, as Wireshark's tcp_dissect_pdus
 * frames them. A protocol whose messages start with a fixed-size header that gives the whole
 * message's length declares the header's size and how to read the length; the helper asks the
 * engine for the missing bytes of a message split across segments (needMore), tells it where a
 * message ends when a segment holds several (pduLength), and hands the dissect function a view
 * of exactly one message.
 */
import type { DissectContext, FieldSpec, PreferenceValues } from './api.js'
import type { ByteView } from './byte-view.js'

/** How a protocol's messages are framed, and how one message is decoded. */
export interface PduFraming<F extends Record<string, FieldSpec>> {
  /** Bytes at the start of every message that are enough to read its length. */
  headerLength: number
  /** The whole message's length in bytes, header included, read from its first headerLength bytes. */
  messageLength(view: ByteView, ctx: DissectContext): number
  /** Decodes one message: `view` holds that message and nothing after it. */
  dissect(view: ByteView, ctx: DissectContext, fields: { readonly [K in keyof F]: number }, prefs: PreferenceValues): void
}

/**
 * A dissect function for a protocol of length-prefixed messages (use it as the definition's
 * `dissect`). Over a stream (`ctx.flow >= 0`) a message is decoded once it is whole; outside
 * one (a datagram, or Decode-As onto UDP) the bytes there are decoded as they are.
 */
export function dissectPdus<F extends Record<string, FieldSpec>>(framing: PduFraming<F>): PduFraming<F>['dissect'] {
  const { headerLength } = framing
  if (!Number.isInteger(headerLength) || headerLength < 1) throw new TypeError('dissectPdus: headerLength is the number of bytes (at least 1) that hold the message length')
  return function dissect(view, ctx, fields, prefs) {
    const stream = ctx.flow >= 0
    if (stream && view.captured < headerLength) return ctx.needMore(headerLength - view.captured)
    view.need(0, headerLength)
    const length = framing.messageLength(view, ctx)
    if (!Number.isInteger(length) || length < headerLength) return ctx.malformed(`message length ${length} is shorter than its ${headerLength}-byte header`)
    if (stream && view.captured < length) return ctx.needMore(length - view.captured)
    if (length < view.reported) {
      // Over a stream the engine bounds the layers above to the message itself.
      if (stream) ctx.pduLength(length)
      else ctx.limit(0, length)
      view.set(view.data, view.offset, Math.min(view.captured, length), length)
    }
    framing.dissect(view, ctx, fields, prefs)
  }
}
