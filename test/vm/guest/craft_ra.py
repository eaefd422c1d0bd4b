#!/usr/bin/python3
"""Crafted Router Advertisements for the ra6mon VM tests, sent as raw Ethernet frames (AF_PACKET)
so every field the kernel checks (hop limit, source, code, length, options, checksum,
fragmentation) is exactly what the test asks for.

  craft_ra.py send --iface IF --kind KIND [--count N]      one kind, N times; prints a JSON summary
  craft_ra.py plan --iface IF --plan FILE --proc PATH      for each step of FILE (JSON list of
      {"name", "kind", "pre": [argv...], "post": [argv...]}): run pre, read PATH
      (/proc/<pid>/net/ra6mon of a process in the receiving namespace), send one RA, wait until
      ra_seen moves, read PATH again, run post; prints one JSON line per step.
"""
import argparse
import json
import socket
import struct
import subprocess
import sys
import time

ALL_NODES = socket.inet_pton(socket.AF_INET6, 'ff02::1')
KINDS = ['valid', 'hop254', 'global-src', 'code1', 'len15', 'zero-opt', 'opt-past-end',
         'bad-csum', 'fragment']


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack(f'!{len(data) // 2}H', data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def icmp6_checksum(src: bytes, dst: bytes, icmp: bytes) -> int:
    pseudo = src + dst + struct.pack('!I3xB', len(icmp), 58)
    return checksum(pseudo + icmp)


def link_local(mac: bytes) -> bytes:
    eui = bytes([mac[0] ^ 2]) + mac[1:3] + b'\xff\xfe' + mac[3:6]
    return b'\xfe\x80' + b'\0' * 6 + eui


def ra_message(kind: str, mac: bytes) -> bytes:
    """The ICMPv6 part, checksum field zero."""
    code = 1 if kind == 'code1' else 0
    # Cur Hop Limit 64, flags M|O, router lifetime 1800 s, reachable 30000 ms, retrans 1000 ms.
    fixed = struct.pack('!BBHBBHII', 134, code, 0, 64, 0xc0, 1800, 30000, 1000)
    options = struct.pack('!BB', 1, 1) + mac                      # source link-layer address
    options += struct.pack('!BBHI', 5, 1, 0, 1500)                 # MTU
    if kind == 'zero-opt':
        options += struct.pack('!BB6x', 5, 0)
    if kind == 'opt-past-end':
        options += struct.pack('!BB6x', 5, 2)                      # claims 16 bytes, has 8
    if kind == 'len15':
        return fixed[:15]
    return fixed + options


def frames(kind: str, mac: bytes) -> list:
    src = socket.inet_pton(socket.AF_INET6, '2001:db8::1') if kind == 'global-src' else link_local(mac)
    hop = 254 if kind == 'hop254' else 255
    icmp = bytearray(ra_message(kind, mac))
    csum = icmp6_checksum(src, ALL_NODES, bytes(icmp))
    if kind == 'bad-csum':
        csum ^= 0x0101
    icmp[2:4] = struct.pack('!H', csum)
    eth = b'\x33\x33\x00\x00\x00\x01' + mac + b'\x86\xdd'
    if kind != 'fragment':
        ip = struct.pack('!IHBB', 0x60000000, len(icmp), 58, hop) + src + ALL_NODES
        return [eth + ip + bytes(icmp)]
    # Two fragments: the first carries the ICMPv6 header and the first 16 bytes.
    ident = 0x52613600
    parts = [(0, True, bytes(icmp[:16])), (16, False, bytes(icmp[16:]))]
    out = []
    for offset, more, chunk in parts:
        frag = struct.pack('!BBHI', 58, 0, offset | int(more), ident)
        ip = struct.pack('!IHBB', 0x60000000, len(frag) + len(chunk), 44, hop) + src + ALL_NODES
        out.append(eth + ip + frag + chunk)
    return out


def open_socket(iface: str):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    with open(f'/sys/class/net/{iface}/address') as f:
        mac = bytes.fromhex(f.read().strip().replace(':', ''))
    return s, mac


def read_counters(path: str) -> dict:
    counters = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                counters[parts[0]] = int(parts[1])
    return counters


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['send', 'plan'])
    ap.add_argument('--iface', required=True)
    ap.add_argument('--kind', choices=KINDS, default='valid')
    ap.add_argument('--count', type=int, default=1)
    ap.add_argument('--plan')
    ap.add_argument('--proc')
    args = ap.parse_args()
    s, mac = open_socket(args.iface)

    if args.mode == 'send':
        packets = frames(args.kind, mac)
        start = time.monotonic()
        sent = 0
        for _ in range(args.count):
            for p in packets:
                s.send(p)
            sent += 1
        elapsed = time.monotonic() - start
        print(json.dumps({'kind': args.kind, 'sent': sent, 'frames': sent * len(packets),
                          'seconds': round(elapsed, 3)}))
        return 0

    with open(args.plan) as f:
        plan = json.load(f)
    for step in plan:
        for argv in step.get('pre', []):
            subprocess.run(argv, check=True)
        before = read_counters(args.proc)
        for p in frames(step['kind'], mac):
            s.send(p)
        deadline = time.monotonic() + 3
        after = read_counters(args.proc)
        while after['ra_seen'] == before['ra_seen'] and time.monotonic() < deadline:
            time.sleep(0.02)
            after = read_counters(args.proc)
        time.sleep(0.05)     # let a (wrong) notification, if any, reach the client
        after = read_counters(args.proc)
        for argv in step.get('post', []):
            subprocess.run(argv, check=True)
        print(json.dumps({'name': step['name'], 'kind': step['kind'], 'before': before, 'after': after}),
              flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
