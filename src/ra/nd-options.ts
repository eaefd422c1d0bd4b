// Neighbor Discovery options of a Router Advertisement (RFC 4861 section 4.6, RFC 4191, RFC 8106).
import { formatIpv6 as formatIpv6Text } from '../dhcpv6/ipv6.js'
import { preferenceFromBits, type NdOption } from './events.js'

export const ND_OPT = {
  SOURCE_LL_ADDR: 1,
  TARGET_LL_ADDR: 2,
  PREFIX_INFO: 3,
  REDIRECT_HDR: 4,
  MTU: 5,
  ROUTE_INFO: 24,
  RDNSS: 25,
  DNSSL: 31,
  CAPTIVE_PORTAL: 37,
  PREF64: 38,
} as const

/** RFC 5952 text form of a 16-byte IPv6 address (the codec's; here a wrong length is a bug, so it throws). */
export function formatIpv6(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`an IPv6 address is 16 bytes, not ${bytes.length}`)
  return formatIpv6Text(bytes)
}

function formatLinkLayer(bytes: Buffer): string {
  return [...bytes].map(b => b.toString(16).padStart(2, '0')).join(':')
}

/** DNS wire-format names (RFC 1035 3.1, no compression), zero padding after the last one. */
function decodeDomainNames(data: Buffer): string[] | string {
  const names: string[] = []
  let offset = 0
  while (offset < data.length) {
    if (data[offset] === 0) {
      // Padding: only zeros may follow (RFC 8106 section 5.2).
      if (data.subarray(offset).some(b => b !== 0)) return 'non-zero bytes after a zero-length name'
      break
    }
    const labels: string[] = []
    for (;;) {
      const length = data[offset]
      if (length === undefined) return 'a domain name runs past the option'
      offset++
      if (length === 0) break
      if (length > 63) return `label length ${length} (compression is not allowed in DNSSL)`
      if (offset + length > data.length) return 'a label runs past the option'
      labels.push(data.subarray(offset, offset + length).toString('latin1'))
      offset += length
    }
    names.push(labels.join('.'))
  }
  return names
}

function decodeOne(type: number, data: Buffer, lengthUnits: number): NdOption {
  const invalid = (reason: string): NdOption => ({ kind: 'invalid', type, reason, data })
  switch (type) {
    case ND_OPT.SOURCE_LL_ADDR:
      return { kind: 'sourceLinkLayerAddress', address: formatLinkLayer(data) }
    case ND_OPT.PREFIX_INFO: {
      if (lengthUnits !== 4) return invalid(`prefix information length ${lengthUnits}, must be 4`)
      const prefixLength = data.readUInt8(0)
      if (prefixLength > 128) return invalid(`prefix length ${prefixLength}`)
      const flags = data.readUInt8(1)
      return {
        kind: 'prefixInformation',
        prefix: formatIpv6(data.subarray(14, 30)),
        prefixLength,
        onLink: (flags & 0x80) !== 0,
        autonomous: (flags & 0x40) !== 0,
        routerAddress: (flags & 0x20) !== 0,
        validLifetime: data.readUInt32BE(2),
        preferredLifetime: data.readUInt32BE(6),
      }
    }
    case ND_OPT.MTU:
      if (lengthUnits !== 1) return invalid(`MTU option length ${lengthUnits}, must be 1`)
      return { kind: 'mtu', mtu: data.readUInt32BE(2) }
    case ND_OPT.ROUTE_INFO: {
      if (lengthUnits > 3) return invalid(`route information length ${lengthUnits}, at most 3`)
      const prefixLength = data.readUInt8(0)
      const needed = prefixLength === 0 ? 1 : prefixLength <= 64 ? 2 : 3
      if (prefixLength > 128 || lengthUnits < needed) {
        return invalid(`prefix length ${prefixLength} does not fit option length ${lengthUnits}`)
      }
      const prefix = Buffer.alloc(16)
      data.copy(prefix, 0, 6, 6 + (lengthUnits - 1) * 8)
      return {
        kind: 'routeInformation',
        prefix: formatIpv6(prefix),
        prefixLength,
        preference: preferenceFromBits(data.readUInt8(1) >> 3),
        routeLifetime: data.readUInt32BE(2),
      }
    }
    case ND_OPT.RDNSS: {
      if (lengthUnits < 3 || (lengthUnits - 1) % 2 !== 0) return invalid(`RDNSS length ${lengthUnits}, must be odd and >= 3`)
      const servers: string[] = []
      for (let offset = 6; offset + 16 <= data.length; offset += 16) servers.push(formatIpv6(data.subarray(offset, offset + 16)))
      return { kind: 'rdnss', lifetime: data.readUInt32BE(2), servers }
    }
    case ND_OPT.DNSSL: {
      if (lengthUnits < 2) return invalid(`DNSSL length ${lengthUnits}, must be >= 2`)
      const domains = decodeDomainNames(data.subarray(6))
      if (typeof domains === 'string') return invalid(domains)
      return { kind: 'dnssl', lifetime: data.readUInt32BE(2), domains }
    }
    default:
      return { kind: 'raw', type, data }
  }
}

/**
 * Decodes the option area of an RA. The kernel accepted the RA, so lengths are normally sound; if
 * one is not (0, or past the end) decoding stops there and `malformed` says why.
 */
export function decodeNdOptions(area: Buffer): { options: NdOption[]; malformed?: string } {
  const options: NdOption[] = []
  let offset = 0
  while (offset < area.length) {
    if (offset + 2 > area.length) return { options, malformed: `1 stray byte at offset ${offset}` }
    const type = area.readUInt8(offset)
    const lengthUnits = area.readUInt8(offset + 1)
    if (lengthUnits === 0) return { options, malformed: `option type ${type} at offset ${offset} has length 0` }
    const end = offset + lengthUnits * 8
    if (end > area.length) return { options, malformed: `option type ${type} at offset ${offset} runs past the end` }
    // Copy: the event outlives the receive buffer.
    options.push(decodeOne(type, Buffer.from(area.subarray(offset + 2, end)), lengthUnits))
    offset = end
  }
  return { options }
}
