/**
 * MappedReader: a regular file's bytes seen through the capture addon's FileWindow
 * (native/src/file-window.cc), a fixed-size window of the file mapped into memory and moved along
 * it, instead of copied out of the page cache by read(2). One or two native calls per window,
 * never per record. Memory: two windows of file pages are mapped at a time (the one being read
 * and the next, mapped ahead on the addon's thread), whatever the file's size.
 * rangeWriter() is its other half: runs of records written from such a window (or any buffer)
 * with writev(2), again without a copy. Why and what they save: docs/performance.md, "The subset
 * job at tcpdump's speed" and "-T text and the second core".
 */
import { fstatSync } from 'node:fs'
import { loadAddon } from '../capture/addon-loader.js'
import { captureAddonCandidates } from '../capture/native.js'

/** The addon's FileWindow class, declared by hand (native/src/file-window.cc). */
interface NativeFileWindow {
  /** The window's memory: file bytes [offset, offset + length) of the last map() at its start. */
  readonly buffer: Buffer
  /** Maps file bytes [offset, offset + length) (offset page-aligned, length <= the window's size); returns length. */
  map(offset: number, length: number): number
  /** As map(), on a thread of the addon's own; the buffer's bytes are undefined until settle(). */
  prefetch(offset: number, length: number): void
  /** Waits for the last prefetch() and returns its length, or throws its error. */
  settle(): number
  /** Unmaps the file now (the buffer then reads as zeros). */
  release(): void
}
interface FileWindowClass {
  new (fd: number, size: number): NativeFileWindow
  readonly pageSize: number
  /** Appends data[ranges[2i], ranges[2i + 1]) for i < count to `fd` with writev(2); bytes written, or -errno. */
  writeRanges(fd: number, data: Uint8Array, ranges: Uint32Array, count: number): number
}

/** The numbers that decide when and how a file is mapped, each with its reason. */
export const MapPolicy = {
  /**
   * Bytes mapped at a time: large enough that the one call per window is nothing beside the
   * records it holds, small enough that the mapped pages (counted in RSS) stay a few MiB. 2, 8 and
   * 32 MiB cost the same CPU time on the 1M-packet real capture (docs/performance.md).
   */
  windowBytes: 8 << 20,
  /**
   * Files shorter than this are read with read(2): their copy costs less than loading the addon.
   * NETKIT_MAP_FILES=1 maps every regular file, =0 none; NETKIT_MAP_WINDOW=BYTES sets the window
   * (tests compare the two paths, with windows small enough that records straddle them).
   */
  minFileBytes: 8 << 20,
  /**
   * The next window is mapped ahead, on a thread, from this far before the current window's
   * end: the next view starts at the first record the current window holds only in part, which
   * lies at most one record (pcap's largest snaplen, 256 KiB) before its end. NETKIT_MAP_PREFETCH=0
   * maps every window on demand instead.
   */
  prefetchOverlap: 1 << 20,
} as const

/** Where the bytes from a file offset lie in the window: buf[pos, end) holds them. */
export interface WindowView {
  buf: Buffer
  pos: number
  end: number
  /** File offset of buf[0]. */
  base: number
  /** The window reaches the end of the file (as fstat saw it when mapping). */
  atEnd: boolean
}

let windowClass: FileWindowClass | null | undefined

/** The addon's FileWindow, or null when the addon is absent (off Linux, not built) or too old. */
function fileWindowClass(): FileWindowClass | null {
  if (windowClass === undefined) {
    const mod = process.platform === 'linux' ? loadAddon<{ FileWindow?: FileWindowClass }>('netkit_capture', captureAddonCandidates()).module : undefined
    windowClass = mod?.FileWindow ?? null
  }
  return windowClass
}

/** A writer of buffer ranges with writev(2) (no copy in user space), or undefined without the addon. */
export function rangeWriter(): FileWindowClass['writeRanges'] | undefined {
  if (process.env.NETKIT_MAP_FILES === '0') return undefined
  const cls = fileWindowClass()
  return cls ? cls.writeRanges : undefined
}

/** Reads one open regular file through a mapped window. */
export class MappedReader {
  /** The window the last view is in. */
  private window: NativeFileWindow
  /** The other window, mapped ahead to `ahead` while the current one is read. */
  private spare: NativeFileWindow | undefined
  /** Where the spare window is being mapped (a prefetch in flight), or undefined. */
  private ahead: { base: number; length: number; atEnd: boolean } | undefined
  private readonly prefetching = process.env.NETKIT_MAP_PREFETCH !== '0'

  private constructor(private readonly cls: FileWindowClass, private readonly fd: number, private windowBytes: number) {
    this.window = new cls(fd, windowBytes)
  }

  /**
   * A reader for `fd` when mapping applies (a regular file of `fileBytes`, the addon at hand,
   * not turned off by NETKIT_MAP_FILES=0), else undefined: the caller reads with read(2).
   */
  static open(fd: number, fileBytes: number): MappedReader | undefined {
    const want = process.env.NETKIT_MAP_FILES
    if (want === '0' || (want !== '1' && fileBytes < MapPolicy.minFileBytes)) return undefined
    const cls = fileWindowClass()
    if (!cls) return undefined
    const size = Number(process.env.NETKIT_MAP_WINDOW)
    try {
      return new MappedReader(cls, fd, size > 0 && size <= 1 << 30 ? size : MapPolicy.windowBytes)
    } catch {
      return undefined // no address space for the window: read(2) does without
    }
  }

  /**
   * Maps the file from `offset` on, so that at least `need` bytes from it are in view unless
   * the file ends first. The window grows (replaced by a larger one) when `need` exceeds it.
   * The view may come from the window mapped ahead; the window it replaces is mapped ahead
   * again at once, so views of earlier windows read other bytes of the file from then on.
   */
  view(offset: number, need: number): WindowView {
    const page = this.cls.pageSize
    const base = offset - (offset % page)
    const pos = offset - base
    const view = this.takeAhead(offset, need) ?? this.mapNow(base, pos, need)
    if (this.prefetching && !view.atEnd && view.end > this.windowBytes >> 1) this.prefetch(view)
    return view
  }

  /** The prefetched window as the view of [offset, offset + need), when it covers them. */
  private takeAhead(offset: number, need: number): WindowView | undefined {
    const ahead = this.ahead
    if (ahead === undefined) return undefined
    this.ahead = undefined
    let end: number
    try {
      end = this.spare!.settle()
    } catch {
      return undefined // mapped on demand instead, which reports the error if it persists
    }
    if (offset < ahead.base || offset + need > ahead.base + end) return undefined
    // A file still being written may have grown past the end it had when the prefetch began.
    if (ahead.atEnd && fstatSync(this.fd).size > ahead.base + end) return undefined
    const spare = this.spare!
    this.spare = this.window
    this.window = spare
    return { buf: spare.buffer, pos: offset - ahead.base, end, base: ahead.base, atEnd: ahead.atEnd }
  }

  /** Maps the window at `base` now, grown first when `pos + need` exceeds it. */
  private mapNow(base: number, pos: number, need: number): WindowView {
    const page = this.cls.pageSize
    if (pos + need > this.windowBytes) {
      this.dropSpare()
      this.window.release()
      this.windowBytes = Math.ceil((pos + need) / page) * page
      this.window = new this.cls(this.fd, this.windowBytes)
    }
    // The size now, for each window: a file still being written grows, and mapping pages a file
    // no longer covers (cut by another process) would make touching them raise SIGBUS.
    const size = fstatSync(this.fd).size
    const length = Math.max(0, Math.min(this.windowBytes, size - base))
    const end = this.window.map(base, length)
    return { buf: this.window.buffer, pos: Math.min(pos, end), end, base, atEnd: base + end >= size }
  }

  /** Starts mapping the window after `view` into the spare window. */
  private prefetch(view: WindowView): void {
    const page = this.cls.pageSize
    const from = view.base + view.end - Math.min(MapPolicy.prefetchOverlap, this.windowBytes >> 2)
    const base = from - (from % page)
    const size = fstatSync(this.fd).size
    const length = Math.max(0, Math.min(this.windowBytes, size - base))
    try {
      this.spare ??= new this.cls(this.fd, this.windowBytes)
      this.spare.prefetch(base, length)
      this.ahead = { base, length, atEnd: base + length >= size }
    } catch {
      this.dropSpare() // no address space for a second window: map on demand
    }
  }

  /** Waits for a prefetch in flight and unmaps the spare window. */
  private dropSpare(): void {
    if (this.ahead !== undefined) {
      this.ahead = undefined
      try { this.spare?.settle() } catch { /* its window is dropped */ }
    }
    this.spare?.release()
    this.spare = undefined
  }

  /** Unmaps the file (the descriptor stays the caller's). */
  close(): void {
    this.dropSpare()
    this.window.release()
  }
}
