/**
 * The kernel filter of a live capture: a pcap-filter(7) expression compiled by netkit's filter
 * compiler (src/filter) for the socket's link type, or a program from a file of `tcpdump -dd` lines.
 */
import { readFileSync } from 'node:fs'
import { fileAccessError, InvalidArgumentError } from '../errors.js'
import { compileFilter } from '../filter/index.js'
import { parseBpfDd, type BpfInstruction } from './bpf-program.js'

/** Builds the BPF program for a live socket's link type and snap length. */
export type FilterBuilder = (linkType: number, snaplen: number) => readonly BpfInstruction[]

/**
 * The filter for `expr` (compiled once the link type is known; a syntax error is thrown now), or
 * the program in `bpfFile`; undefined for none.
 */
export function captureFilter(expr: string, bpfFile: string | undefined): FilterBuilder | undefined {
  if (bpfFile !== undefined) {
    if (expr !== '') throw new InvalidArgumentError('give either a filter expression or --bpf-file, not both')
    let text: string
    try {
      text = readFileSync(bpfFile, 'utf8')
    } catch (err) {
      throw fileAccessError(bpfFile, err, 'read it')
    }
    const program = parseBpfDd(text)
    if (program.length === 0) throw new InvalidArgumentError(`${bpfFile} holds no BPF instructions (expected tcpdump -dd output)`)
    return () => program
  }
  if (expr === '') return undefined
  // Syntax errors surface before any socket opens (the link type only changes code generation).
  compileFilter(expr, { linkType: 1, live: true })
  // live: the kernel strips VLAN tags into metadata, so `vlan` must test the ancillary fields.
  return (linkType, snaplen) => compileFilter(expr, { linkType, live: true, snaplen }).program
}
