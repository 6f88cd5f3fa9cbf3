/**
 * netkit's library API: everything a plugin or script imports (`import { ... } from 'netkit'`).
 */
export * from './errors.js'
export * from './pcap/index.js'
export { loadConfig, validateConfig, type NetkitConfig } from './config.js'
export * from './http/index.js'
