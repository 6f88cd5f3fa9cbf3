/**
 * `-Y EXPR`: the display filter (wireshark-filter(4)) of every command that reads packets. The
 * expression is compiled once, before any packet is read, against the run's dissectors, so an
 * unknown field or a type error is one usage error line and nothing else.
 */
import { Flags } from '@oclif/core'

export { loadDissection, type Dissection } from './dissection.js'

/** -Y EXPR. */
export const displayFilterFlag = Flags.string({
  char: 'Y',
  description: 'display filter (Wireshark syntax, e.g. \'http.response.code >= 400\'): keep only the packets it matches',
  helpValue: 'EXPR',
})
