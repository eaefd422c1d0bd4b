// A small pcap / pcapng reader that finds DHCPv6 (UDP port 546 or 547) payloads over IPv6.
// Link types: Ethernet (with 802.1Q/802.1ad tags), Linux cooked SLL and SLL2, raw IP / raw IPv6,
// BSD loopback (NULL). IPv6 extension headers are skipped; non-first fragments are not reassembled.
import { formatIpv6 } from '../dhcpv6/ipv6.js'

export class PcapError extends Error {
  override name = 'PcapError'
}

export interface Dhcpv6Packet {
  /** 1-based frame number, counting every packet in the file (as tshark does). */
  frame: number
  source: string
  destination: string
  sourcePort: number
  destinationPort: number
  payload: Uint8Array
}

export interface CapturedFrame { frame: number; linkType: number; data: Uint8Array }

const LinkType = { null: 0, ethernet: 1, raw: 101, linuxSll: 113, ipv6: 229, linuxSll2: 276, rawBsd12: 12, rawBsd14: 14 } as const
const dhcpPorts = new Set([546, 547])

/** Every frame of a pcap or pcapng file, in order. Throws PcapError on a file that is neither. */
export function readFrames(file: Uint8Array): CapturedFrame[] {
  if (file.length < 4) throw new PcapError(`the file is ${file.length} bytes long: too short for a pcap or pcapng header`)
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
  const magic = view.getUint32(0, false)
  if (magic === 0x0a0d0d0a) return readPcapng(file, view)
  if ([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(magic)) return readPcap(file, view)
  throw new PcapError(`not a pcap or pcapng file (it starts with 0x${magic.toString(16).padStart(8, '0')}); capture with tshark -w FILE or tcpdump -w FILE`)
}

function readPcap(file: Uint8Array, view: DataView): CapturedFrame[] {
  const magic = view.getUint32(0, false)
  const little = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1
  if (file.length < 24) throw new PcapError(`pcap header is truncated: ${file.length} of 24 bytes`)
  const linkType = view.getUint32(20, little) & 0x0fffffff
  const frames: CapturedFrame[] = []
  let i = 24
  while (i < file.length) {
    if (file.length - i < 16) throw new PcapError(`pcap record header of frame ${frames.length + 1} at offset ${i} is truncated`)
    const captured = view.getUint32(i + 8, little)
    if (i + 16 + captured > file.length) {
      throw new PcapError(`frame ${frames.length + 1} at offset ${i} declares ${captured} captured bytes but only ${file.length - i - 16} remain: the file is truncated`)
    }
    frames.push({ frame: frames.length + 1, linkType, data: file.subarray(i + 16, i + 16 + captured) })
    i += 16 + captured
  }
  return frames
}

function readPcapng(file: Uint8Array, view: DataView): CapturedFrame[] {
  const frames: CapturedFrame[] = []
  let little = true
  let interfaces: number[] = []
  let i = 0
  while (i < file.length) {
    if (file.length - i < 12) throw new PcapError(`pcapng block at offset ${i} is truncated`)
    const rawType = view.getUint32(i, false)
    if (rawType === 0x0a0d0d0a) {
      // Section Header Block: its byte-order magic decides the endianness of the whole section
      const bom = view.getUint32(i + 8, false)
      if (bom === 0x4d3c2b1a) little = true
      else if (bom === 0x1a2b3c4d) little = false
      else throw new PcapError(`pcapng section header at offset ${i} has a bad byte-order magic 0x${bom.toString(16)}`)
      interfaces = []
    }
    const type = view.getUint32(i, little)
    const length = view.getUint32(i + 4, little)
    if (length < 12 || length % 4 !== 0 || i + length > file.length) {
      throw new PcapError(`pcapng block at offset ${i} declares length ${length} but only ${file.length - i} bytes remain (or the length is invalid): the file is truncated or corrupt`)
    }
    const body = i + 8
    if (type === 1) {
      interfaces.push(view.getUint16(body, little))
    } else if (type === 6 || type === 2) {
      // Enhanced Packet Block (6) and the obsolete Packet Block (2) share this layout
      const iface = type === 6 ? view.getUint32(body, little) : view.getUint16(body, little)
      const captured = view.getUint32(body + 12, little)
      if (body + 20 + captured > i + length) throw new PcapError(`pcapng packet block at offset ${i} declares ${captured} captured bytes, more than the block holds`)
      const linkType = interfaces[iface]
      if (linkType === undefined) throw new PcapError(`pcapng packet block at offset ${i} names interface ${iface}, which has no description block`)
      frames.push({ frame: frames.length + 1, linkType, data: file.subarray(body + 20, body + 20 + captured) })
    } else if (type === 3) {
      const original = view.getUint32(body, little)
      const captured = Math.min(original, length - 16)
      const linkType = interfaces[0]
      if (linkType === undefined) throw new PcapError(`pcapng simple packet block at offset ${i} comes before any interface description block`)
      frames.push({ frame: frames.length + 1, linkType, data: file.subarray(body + 4, body + 4 + captured) })
    }
    i += length
  }
  return frames
}

/** The IPv6 packet inside a frame of the given link type, or undefined when it carries something else. */
function ipv6Of(linkType: number, d: Uint8Array): Uint8Array | undefined {
  const u16 = (i: number) => (d[i]! << 8) | d[i + 1]!
  switch (linkType) {
    case LinkType.ethernet: {
      let i = 12
      while (d.length >= i + 2 && (u16(i) === 0x8100 || u16(i) === 0x88a8)) i += 4
      return d.length >= i + 2 && u16(i) === 0x86dd ? d.subarray(i + 2) : undefined
    }
    case LinkType.linuxSll: return d.length >= 16 && u16(14) === 0x86dd ? d.subarray(16) : undefined
    case LinkType.linuxSll2: return d.length >= 20 && u16(0) === 0x86dd ? d.subarray(20) : undefined
    case LinkType.raw:
    case LinkType.rawBsd12:
    case LinkType.rawBsd14:
    case LinkType.ipv6: return d.length >= 1 && d[0]! >> 4 === 6 ? d : undefined
    case LinkType.null: {
      if (d.length < 4) return undefined
      const family = Math.max(new DataView(d.buffer, d.byteOffset).getUint32(0, true), new DataView(d.buffer, d.byteOffset).getUint32(0, false))
      return [10, 24, 28, 30].includes(family) ? d.subarray(4) : undefined // AF_INET6 on Linux, *BSD, macOS
    }
    default: return undefined
  }
}

/** The DHCPv6 payload of one IPv6 packet (UDP to or from port 546/547), skipping extension headers. */
function dhcpOf(frame: number, ip: Uint8Array): Dhcpv6Packet | undefined {
  if (ip.length < 40) return undefined
  const payloadLength = (ip[4]! << 8) | ip[5]!
  const end = Math.min(ip.length, 40 + payloadLength)
  let next = ip[6]!
  let i = 40
  for (;;) {
    if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140) {
      if (end - i < 8) return undefined
      next = ip[i]!
      i += 8 * (ip[i + 1]! + 1)
    } else if (next === 51) {
      if (end - i < 8) return undefined
      next = ip[i]!
      i += 4 * (ip[i + 1]! + 2)
    } else if (next === 44) {
      if (end - i < 8) return undefined
      const offsetAndMore = (ip[i + 2]! << 8) | ip[i + 3]!
      if (offsetAndMore !== 0) return undefined // a real fragment: not reassembled
      next = ip[i]!
      i += 8
    } else break
  }
  if (next !== 17 || end - i < 8) return undefined
  const sourcePort = (ip[i]! << 8) | ip[i + 1]!
  const destinationPort = (ip[i + 2]! << 8) | ip[i + 3]!
  if (!dhcpPorts.has(sourcePort) && !dhcpPorts.has(destinationPort)) return undefined
  const udpLength = (ip[i + 4]! << 8) | ip[i + 5]!
  const payloadEnd = Math.min(end, i + Math.max(udpLength, 8))
  return {
    frame,
    source: formatIpv6(ip.subarray(8, 24)),
    destination: formatIpv6(ip.subarray(24, 40)),
    sourcePort,
    destinationPort,
    payload: ip.subarray(i + 8, payloadEnd),
  }
}

/** Every DHCPv6 packet in a pcap or pcapng file, with its frame number and addresses. */
export function dhcpv6Packets(file: Uint8Array): Dhcpv6Packet[] {
  const found: Dhcpv6Packet[] = []
  for (const f of readFrames(file)) {
    const ip = ipv6Of(f.linkType, f.data)
    const packet = ip && dhcpOf(f.frame, ip)
    if (packet) found.push(packet)
  }
  return found
}
