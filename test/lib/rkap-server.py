#!/usr/bin/env python3
"""A scripted DHCPv6 server for the Reconfigure integration test (stdlib only).

Kea 2.2 and dnsmasq never send Reconfigure, so this server plays the server's part of RFC 8415
sections 18.3.11 and 20.4 (Reconfigure Key Authentication Protocol) itself, written apart from
ra6dhcp's codec so that a shared mistake cannot pass unnoticed. It answers Solicit, Request,
Renew, Rebind and Information-request; its Reply to Request hands out a reconfigure key. Once the
client is bound it sends the Reconfigure cases below to the client's link-local address, port
546, one after the other, and logs every step as one JSON line on stdout.

Usage: rkap-server.py IFNAME PREFIX64 [ANSWER_SECONDS]   (e.g. br0 2001:db8:7:: 10)
ANSWER_SECONDS: how long to wait for the client's answer to a valid Reconfigure (default 10).
"""
import hashlib
import hmac
import json
import os
import select
import socket
import struct
import sys
import time

SOLICIT, ADVERTISE, REQUEST, RENEW, REBIND, REPLY, RECONFIGURE, INFORMATION_REQUEST = 1, 2, 3, 5, 6, 7, 10, 11
OPT_CLIENTID, OPT_SERVERID, OPT_IA_NA, OPT_IAADDR, OPT_ORO, OPT_AUTH = 1, 2, 3, 5, 6, 11
OPT_RECONF_MSG, OPT_RECONF_ACCEPT, OPT_DNS_SERVERS = 19, 20, 23
# RFC 8415 section 20.4: protocol 3 (RKAP), algorithm 1 (HMAC-MD5), RDM 0 (monotonic counter).
RKAP, HMAC_MD5, MONOTONIC = 3, 1, 0
RKAP_KEY, RKAP_HMAC = 1, 2

SERVER_DUID = bytes.fromhex('00030001' '02000000e001')  # DUID-LL, Ethernet
KEY = bytes.fromhex('00112233445566778899aabbccddeeff')
WRONG_KEY = bytes.fromhex('ffeeddccbbaa99887766554433221100')
T1, T2, PREFERRED, VALID = 1000, 1600, 1800, 3600


def log(**fields):
    print(json.dumps({'time': time.time(), **fields}), flush=True)


def opt(code, data=b''):
    return struct.pack('!HH', code, len(data)) + data


def message(msg_type, xid, options):
    return bytes([msg_type]) + xid.to_bytes(3, 'big') + b''.join(options)


def parse(data):
    """(msg-type, xid, {code: [values]}) of a client message, or None if it is not one."""
    if len(data) < 4:
        return None
    options, at = {}, 4
    while at + 4 <= len(data):
        code, length = struct.unpack_from('!HH', data, at)
        if at + 4 + length > len(data):
            return None
        options.setdefault(code, []).append(data[at + 4:at + 4 + length])
        at += 4 + length
    return data[0], int.from_bytes(data[1:4], 'big'), options


def rkap(rd, info_type, value):
    return opt(OPT_AUTH, bytes([RKAP, HMAC_MD5, MONOTONIC]) + rd.to_bytes(8, 'big') + bytes([info_type]) + value)


def reconfigure(client_id, requested, rd=None, key=None, oro=()):
    """A Reconfigure (transaction id 0, RFC 8415 section 18.3.11), signed with key when rd is given;
    oro: option codes the client is to ask for in its answer (RFC 8415 section 21.7)."""
    options = [opt(OPT_SERVERID, SERVER_DUID), opt(OPT_CLIENTID, client_id), opt(OPT_RECONF_MSG, bytes([requested]))]
    if oro:
        options.append(opt(OPT_ORO, b''.join(struct.pack('!H', code) for code in oro)))
    if rd is None:
        return message(RECONFIGURE, 0, options)
    # The HMAC covers the whole message with its own 16-byte field zeroed; the option goes last,
    # so that field is the message's last 16 bytes.
    unsigned = message(RECONFIGURE, 0, options + [rkap(rd, RKAP_HMAC, bytes(16))])
    return unsigned[:-16] + hmac.new(key, unsigned, hashlib.md5).digest()


class Server:
    def __init__(self, ifname, prefix64):
        self.address = socket.inet_pton(socket.AF_INET6, prefix64 + '200')
        self.ifindex = socket.if_nametoindex(ifname)
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
        self.sock.bind(('::', 547))
        group = socket.inet_pton(socket.AF_INET6, 'ff02::1:2')
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, group + struct.pack('@I', self.ifindex))
        self.client = None  # (link-local address, Client ID) once bound

    def ia_na(self, client_ia):
        iaid = client_ia[:4]
        address = opt(OPT_IAADDR, self.address + struct.pack('!II', PREFERRED, VALID))
        return opt(OPT_IA_NA, iaid + struct.pack('!II', T1, T2) + address)

    def answer(self, data, sender):
        parsed = parse(data)
        if parsed is None:
            return log(event='malformed', bytes=len(data))
        msg_type, xid, options = parsed
        client_id = options.get(OPT_CLIENTID, [None])[0]
        log(event='received', msgType=msg_type, xid=xid, source=sender[0],
            reconfigureAccept=OPT_RECONF_ACCEPT in options,
            serverId=options[OPT_SERVERID][0].hex() if OPT_SERVERID in options else None,
            clientId=client_id.hex() if client_id else None,
            iaNa=[ia.hex() for ia in options.get(OPT_IA_NA, [])],
            oro=[code for value in options.get(OPT_ORO, []) for (code,) in struct.iter_unpack('!H', value[:len(value) // 2 * 2])])
        if client_id is None:
            return
        head = [opt(OPT_SERVERID, SERVER_DUID), opt(OPT_CLIENTID, client_id)]
        ias = [self.ia_na(ia) for ia in options.get(OPT_IA_NA, [])]
        if msg_type == SOLICIT:
            reply = message(ADVERTISE, xid, head + ias + [opt(OPT_RECONF_ACCEPT)])
        elif msg_type == REQUEST:
            # The reconfigure key, replay counter 1 (RFC 8415 section 20.4.1).
            reply = message(REPLY, xid, head + ias + [opt(OPT_RECONF_ACCEPT), rkap(1, RKAP_KEY, KEY)])
            self.client = (sender[0].split('%')[0], client_id)
        elif msg_type in (RENEW, REBIND):
            # Reconfigure Accept again: a Reply without it would tell the client to stop accepting.
            reply = message(REPLY, xid, head + ias + [opt(OPT_RECONF_ACCEPT)])
        elif msg_type == INFORMATION_REQUEST:
            reply = message(REPLY, xid, head + [opt(OPT_DNS_SERVERS, socket.inet_pton(socket.AF_INET6, '2001:db8:7::53'))])
        else:
            return
        self.sock.sendto(reply, (sender[0].split('%')[0], sender[1], 0, self.ifindex))
        log(event='sent', msgType=reply[0], xid=xid)
        return msg_type

    def serve(self, seconds, until=None):
        """Answers clients for up to `seconds`; returns early once a message of type `until` came."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                data, sender = self.sock.recvfrom(4096)
                if self.answer(data, sender) == until and until is not None:
                    return True

    def send_reconfigure(self, case, data, to_leased_address=False):
        """To the client's link-local address, or to the address it leased (routed, no scope)."""
        target = (socket.inet_ntop(socket.AF_INET6, self.address), 546, 0, 0) if to_leased_address else (self.client[0], 546, 0, self.ifindex)
        self.sock.sendto(data, target)
        log(event='reconfigure', case=case, to=target[0], bytes=data.hex())


def main():
    ifname, prefix64 = sys.argv[1], sys.argv[2]
    answer_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
    server = Server(ifname, prefix64)
    log(event='listening', ifname=ifname, pid=os.getpid())
    while server.client is None:
        server.serve(0.2)
    server.serve(1.0)  # let the client apply its lease and settle in Bound
    client_id = server.client[1]
    valid_renew = reconfigure(client_id, RENEW, rd=2, key=KEY)
    # (case, message, what the client must answer with, or None: it must drop it[, to the leased address])
    cases = [
        ('unauthenticated', reconfigure(client_id, RENEW), None),
        ('bad-hmac', reconfigure(client_id, RENEW, rd=2, key=WRONG_KEY), None),
        ('renew', valid_renew, RENEW),
        ('replayed', valid_renew, None),
        ('information-request', reconfigure(client_id, INFORMATION_REQUEST, rd=3, key=KEY, oro=(31, 56)), INFORMATION_REQUEST),
        ('rebind', reconfigure(client_id, REBIND, rd=4, key=KEY), REBIND),
        ('renew-to-leased-address', reconfigure(client_id, RENEW, rd=5, key=KEY), RENEW, True),
    ]
    for case, data, expected, *to_leased in cases:
        server.send_reconfigure(case, data, bool(to_leased and to_leased[0]))
        if expected is None:
            server.serve(1.5)
        else:
            answered = server.serve(answer_seconds, until=expected)
            log(event='answered' if answered else 'unanswered', case=case)
            server.serve(1.0)  # the client takes the Reply and is Bound again before the next case
    log(event='done')
    server.serve(3600)


if __name__ == '__main__':
    main()
