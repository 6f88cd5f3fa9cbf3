// @ts-check
// Domain names in DNS messages (RFC 1035 section 3.1 and 4.1.4): labels, compression pointers,
// and the loop protection hostile messages need.

/** The result of the last readName(): the name as tshark shows it, its length and label count. */
export const name = { text: '', length: 0, labels: 0 }

const ROOT = '<Root>'
/** Longest name tshark builds (its MAX_DNAME_LEN); longer ones are cut, as it cuts them. */
const MAX_NAME = 255

/**
 * Reads the name at `at` of a message that starts at `msg` and ends at `end` (offsets in
 * `view`) and returns the offset after it (after its first pointer, when compressed). With
 * `wantText` the name is left in `name.text` (`<Root>` for the root, as tshark shows it).
 * A pointer must point before the label that holds it (as BIND and tcpdump require), so
 * following pointers always ends; a name that breaks this reads as tshark's
 * `<Name contains a pointer that loops>`.
 * @param {import('netkit').ByteView} view @param {number} msg @param {number} at @param {number} end
 * @param {boolean} wantText
 */
export function readName(view, msg, at, end, wantText) {
  let text = ''
  let labels = 0
  let length = 0
  let p = at
  let after = -1
  let limit = at
  for (;;) {
    const len = view.u8(p)
    if (len === 0) {
      if (after < 0) after = p + 1
      break
    }
    const kind = len & 0xc0
    if (kind === 0xc0) {
      const target = msg + (((len & 0x3f) << 8) | view.u8(p + 1))
      if (after < 0) after = p + 2
      if (target >= limit) {
        text = '<Name contains a pointer that loops>'
        length = text.length
        break
      }
      limit = target
      p = target
      continue
    }
    if (kind !== 0) {
      // 0x40 (extended label types, RFC 6891) and 0x80 are not labels this reader knows.
      if (after < 0) after = p + 1
      if (wantText) text = text.length === 0 ? '<Unknown extended label>' : text + '.<Unknown extended label>'
      break
    }
    if (p + 1 + len > end) view.need(p + 1, len) // past the message: truncated if not captured
    labels++
    if (wantText && length < MAX_NAME) {
      if (length > 0) { text += '.'; length++ }
      for (let i = 0; i < len && length < MAX_NAME; i++, length++) text += labelChar(view.u8(p + 1 + i))
    } else {
      length += (length > 0 ? 1 : 0) + len
    }
    p += 1 + len
  }
  if (labels === 0 && length === 0) {
    // tshark counts the root as the name "<Root>": 6 characters, one label.
    name.text = ROOT
    name.length = ROOT.length
    name.labels = 1
  } else {
    name.text = text
    name.length = Math.min(length, MAX_NAME)
    name.labels = labels
  }
  return after
}

/**
 * Skips the name at `at` without following pointers (tcpdump's ns_nskip); -1 when it holds a
 * label type that cannot be skipped.
 * @param {import('netkit').ByteView} view @param {number} at
 */
export function skipName(view, at) {
  let p = at
  for (;;) {
    const len = view.u8(p)
    if (len === 0) return p + 1
    if ((len & 0xc0) === 0xc0) return p + 2
    if ((len & 0xc0) !== 0) return -1
    p += 1 + len
  }
}

/** @param {number} c */
function labelChar(c) {
  return c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\${c.toString(8).padStart(3, '0')}`
}
