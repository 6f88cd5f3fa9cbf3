#!/usr/bin/env python3
"""The oracle for filter tests: libpcap itself (the library tcpdump filters with), via ctypes.

usage: libpcap-matches.py PCAP < expressions (one a line)
For each expression, prints one JSON line: the 1-based numbers of the packets libpcap's
compiled filter matches, or {"error": message} when pcap_compile rejects it. The file is opened
with pcap_open_offline, as `tcpdump -r` does, so compilation sees a savefile exactly as tcpdump's
does (byte order, link type, snapshot length); one process checks every expression, where a
tcpdump spawn per expression would cost ~40 ms each.
"""
import ctypes, ctypes.util, json, sys

lib = ctypes.CDLL(ctypes.util.find_library("pcap") or "libpcap.so.0.8")

class BpfProgram(ctypes.Structure):
    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.c_void_p)]

class PktHdr(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long), ("caplen", ctypes.c_uint32), ("len", ctypes.c_uint32)]

lib.pcap_open_offline.restype = ctypes.c_void_p
lib.pcap_open_offline.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
lib.pcap_compile.argtypes = [ctypes.c_void_p, ctypes.POINTER(BpfProgram), ctypes.c_char_p, ctypes.c_int, ctypes.c_uint32]
lib.pcap_geterr.restype = ctypes.c_char_p
lib.pcap_geterr.argtypes = [ctypes.c_void_p]
lib.pcap_next_ex.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(PktHdr)), ctypes.POINTER(ctypes.c_void_p)]
lib.pcap_offline_filter.argtypes = [ctypes.POINTER(BpfProgram), ctypes.POINTER(PktHdr), ctypes.c_void_p]
lib.pcap_freecode.argtypes = [ctypes.POINTER(BpfProgram)]
lib.pcap_close.argtypes = [ctypes.c_void_p]

# tcpdump -r compiles with netmask 0 (no interface to ask), which makes `ip broadcast` valid.
NETMASK = 0

def main():
    path = sys.argv[1].encode()
    err = ctypes.create_string_buffer(256)
    p = lib.pcap_open_offline(path, err)
    if not p:
        sys.exit(f"libpcap-matches: {err.value.decode()}")
    # Keep every packet (header + bytes copied) so each expression runs over the same list.
    packets = []
    hdr = ctypes.POINTER(PktHdr)()
    data = ctypes.c_void_p()
    while lib.pcap_next_ex(p, ctypes.byref(hdr), ctypes.byref(data)) == 1:
        h = PktHdr(hdr.contents.tv_sec, hdr.contents.tv_usec, hdr.contents.caplen, hdr.contents.len)
        buf = ctypes.create_string_buffer(ctypes.string_at(data, h.caplen), max(h.caplen, 1))
        packets.append((h, buf))
    for line in sys.stdin:
        expr = line.rstrip("\n")
        prog = BpfProgram()
        # optimize=1 and netmask 0, as tcpdump -r does.
        if lib.pcap_compile(p, ctypes.byref(prog), expr.encode(), 1, NETMASK) != 0:
            print(json.dumps({"error": lib.pcap_geterr(p).decode(errors="replace")}), flush=True)
            continue
        hits = [i + 1 for i, (h, buf) in enumerate(packets) if lib.pcap_offline_filter(ctypes.byref(prog), ctypes.byref(h), buf) != 0]
        lib.pcap_freecode(ctypes.byref(prog))
        print(json.dumps(hits), flush=True)
    lib.pcap_close(p)

if __name__ == "__main__":
    main()
