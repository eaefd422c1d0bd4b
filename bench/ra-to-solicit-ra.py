#!/usr/bin/python3
"""One ICMPv6 Router Advertisement (M=1, router lifetime 1800 s, no options) per line on stdin,
sent to ff02::1 on the interface given as argv[1] (from its link-local address, hop limit 255).
Prints "sent" after each, so the caller knows it left. Used by bench/ra-to-solicit-driver.ts."""
import socket
import struct
import sys

iface = sys.argv[1]
index = socket.if_nametoindex(iface)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
# type 134, code 0, checksum (the kernel fills it), hop limit 64, flags M, lifetime, reachable, retrans
ra = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0x80, 1800, 0, 0)
print('ready', flush=True)
for line in sys.stdin:
    s.sendto(ra, ('ff02::1', 0, 0, index))
    print('sent', flush=True)
