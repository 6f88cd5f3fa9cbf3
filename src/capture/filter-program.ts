/**
 * The kernel filter of a live capture: from a pcap-filter(7) expression (through netkit's filter
 * compiler, src/filter, when this build has it) or from a file of `tcpdump -dd` lines.
 */
import { readFileSync } from 'node:fs'
import { fileAccessError, InvalidArgumentError } from '../errors.js'
import { parseBpfDd, type BpfInstruction } from './bpf-program.js'

interface FilterCompiler {
  compileFilter(expr: string, options: { linkType: number; live?: boolean; snaplen?: number }): { program: BpfInstruction[] }
}

/** Loads the filter compiler when it is part of this build (it is a separate component). */
async function loadCompiler(): Promise<FilterCompiler | undefined> {
  try {
    return (await import(new URL('../filter/index.js', import.meta.url).href)) as FilterCompiler
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined
    throw err
  }
}

/** Builds the BPF program for a live socket's link type and snap length. */
export type FilterBuilder = (linkType: number, snaplen: number) => readonly BpfInstruction[]

/** The filter for `expr` (compiled once the link type is known), or the program in `bpfFile`; undefined for none. */
export async function captureFilter(expr: string, bpfFile: string | undefined): Promise<FilterBuilder | undefined> {
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
  const compiler = await loadCompiler()
  if (!compiler) {
    throw new InvalidArgumentError(`filter expressions need netkit's filter compiler, which this build lacks: '${expr}'`, {
      hint: `compile it elsewhere, e.g. tcpdump -dd '${expr}' > f.bpf, and pass --bpf-file f.bpf`,
    })
  }
  // live: the kernel strips VLAN tags into metadata, so `vlan` must test the ancillary fields.
  return (linkType, snaplen) => compiler.compileFilter(expr, { linkType, live: true, snaplen }).program
}
