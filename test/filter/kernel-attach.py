#!/usr/bin/env python3
"""Asks the kernel whether it accepts classic BPF programs: SO_ATTACH_FILTER on a socket.

usage: kernel-attach.py [udp|packet] < programs (one JSON array of [code, jt, jf, k] a line)
Prints one line per program: `ok`, or `error ERRNO-NAME`. The kernel checks a classic program
when it is attached (sk_chk_filter / bpf_check_classic: length, opcodes, jumps in range,
scratch memory indexes, ends in RET) the same way for every socket type, so an unprivileged UDP
socket answers for the AF_PACKET socket a capture uses; `packet` uses AF_PACKET (needs root).
"""
import ctypes, errno, json, socket, struct, sys

SO_ATTACH_FILTER = 26

def attach(sock, prog):
    insns = b"".join(struct.pack("=HBBI", c, jt, jf, k) for c, jt, jf, k in prog)
    buf = ctypes.create_string_buffer(insns, len(insns))
    fprog = struct.pack("=HxxxxxxQ", len(prog), ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)

def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else "udp"
    for line in sys.stdin:
        prog = json.loads(line)
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0) if kind == "packet" else socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            attach(s, prog)
            print("ok", flush=True)
        except OSError as e:
            print(f"error {errno.errorcode.get(e.errno, e.errno)}", flush=True)
        finally:
            s.close()

if __name__ == "__main__":
    main()
