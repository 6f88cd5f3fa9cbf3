/**
 * `-d TABLE==SELECTOR,DISSECTOR` (Decode-As) and `-o DISSECTOR.PREF:VALUE` (preferences), tshark's
 * flags, on every command that dissects. They add to the configuration's `decodeAs` and
 * `preferences` (the command line wins) and are checked when the dissectors load.
 */
import { Flags } from '@oclif/core'

/** -d and -o. */
export const dissectionFlags = {
  'decode-as': Flags.string({
    char: 'd',
    description: 'decode TABLE==SELECTOR as DISSECTOR (tshark\'s -d), e.g. tcp.port==8888,http or udp.port==5000-5010,nkp; repeatable',
    multiple: true,
    multipleNonGreedy: true,
    helpValue: 'TABLE==SEL,NAME',
  }),
  preference: Flags.string({
    char: 'o',
    description: 'set a dissector preference (tshark\'s -o), e.g. nkp.port:7000; repeatable',
    multiple: true,
    multipleNonGreedy: true,
    helpValue: 'NAME.PREF:VALUE',
  }),
}

/** The configuration with the command line's -d rules and -o settings added (see preferences.ts). */
export { withDissectionFlags } from '../dissect/preferences.js'
