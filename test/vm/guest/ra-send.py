#!/usr/bin/python3
"""RA sender for the RaMonitor VM tests and bench/ra-latency: one long-lived process (python starts
slowly under TCG) that reads commands on stdin and sends craft_ra.py's valid RA as raw frames.

  ra-send.py --iface IF      then, one per line:
    send COUNT INTERVAL_US   COUNT RAs, INTERVAL_US apart (0: back to back); answers
                             {"sent": N, "seconds": S} on stdout when done
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from craft_ra import frames, open_socket  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('--iface', required=True)
    args = ap.parse_args()
    s, mac = open_socket(args.iface)
    packet = frames('valid', mac)[0]
    print(json.dumps({'ready': True}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if len(words) != 3 or words[0] != 'send':
            print(json.dumps({'error': f'bad command: {line.strip()}'}), flush=True)
            continue
        count, interval = int(words[1]), int(words[2]) / 1e6
        start = time.monotonic()
        next_at = start
        for _ in range(count):
            if interval:
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                next_at += interval
            s.send(packet)
        print(json.dumps({'sent': count, 'seconds': round(time.monotonic() - start, 4)}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
