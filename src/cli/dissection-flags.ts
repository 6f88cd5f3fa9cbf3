/**
 * `-d TABLE==SELECTOR,DISSECTOR` (Decode-As) and `-o DISSECTOR.PREF:VALUE` (preferences), tshark's
 * flags, on every command that dissects. They add to the configuration's `decodeAs` and
 * `preferences` (the command line wins) and are checked when the dissectors load.
 */
import { Flags } from '@oclif/core'
import type { NetkitConfig } from '../config.js'
import { preferenceFlags } from '../dissect/preferences.js'

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

/** The configuration with the command line's -d rules and -o settings added. */
export function withDissectionFlags(config: NetkitConfig, flags: { 'decode-as'?: string[]; preference?: string[] }): NetkitConfig {
  const preferences: Record<string, Record<string, unknown>> = {}
  for (const [name, values] of Object.entries(config.preferences ?? {})) preferences[name] = { ...values }
  for (const [name, values] of Object.entries(preferenceFlags(flags.preference))) preferences[name] = { ...preferences[name], ...values }
  return { ...config, preferences, decodeAs: [...(config.decodeAs ?? []), ...(flags['decode-as'] ?? [])] }
}
