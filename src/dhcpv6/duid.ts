// DUIDs (RFC 8415 section 11, DUID-UUID from RFC 6355). A DUID is opaque to its receivers, so one
// that does not fit its type is kept as raw bytes rather than refused: a client must echo it exactly.
import { put16, put32, toHex, u16, u32, view } from './bytes.js'
import { DuidType } from './constants.js'
import { DhcpEncodeError } from './errors.js'
import type { Duid } from './model.js'

/** Decodes the DUID in b[start, end); the caller has checked end - start >= 2. */
export function decodeDuid(b: Uint8Array, start: number, end: number): Duid {
  const typeCode = u16(b, start)
  const length = end - start
  if (typeCode === DuidType.llt && length >= 8) {
    return { type: 'llt', hardwareType: u16(b, start + 2), time: u32(b, start + 4), linkLayerAddress: view(b, start + 8, end) }
  }
  if (typeCode === DuidType.en && length >= 6) {
    return { type: 'en', enterpriseNumber: u32(b, start + 2), identifier: view(b, start + 6, end) }
  }
  if (typeCode === DuidType.ll && length >= 4) {
    return { type: 'll', hardwareType: u16(b, start + 2), linkLayerAddress: view(b, start + 4, end) }
  }
  if (typeCode === DuidType.uuid && length === 18) return { type: 'uuid', uuid: view(b, start + 2, end) }
  return { type: 'raw', typeCode, data: view(b, start + 2, end) }
}

export function duidLength(d: Duid): number {
  switch (d.type) {
    case 'llt': return 8 + d.linkLayerAddress.length
    case 'en': return 6 + d.identifier.length
    case 'll': return 4 + d.linkLayerAddress.length
    case 'uuid': return 18
    case 'raw': return 2 + d.data.length
  }
}

export function encodeDuid(d: Duid, out: Uint8Array, pos: number): number {
  switch (d.type) {
    case 'llt':
      put16(out, pos, DuidType.llt); put16(out, pos + 2, d.hardwareType); put32(out, pos + 4, d.time)
      out.set(d.linkLayerAddress, pos + 8)
      return pos + 8 + d.linkLayerAddress.length
    case 'en':
      put16(out, pos, DuidType.en); put32(out, pos + 2, d.enterpriseNumber)
      out.set(d.identifier, pos + 6)
      return pos + 6 + d.identifier.length
    case 'll':
      put16(out, pos, DuidType.ll); put16(out, pos + 2, d.hardwareType)
      out.set(d.linkLayerAddress, pos + 4)
      return pos + 4 + d.linkLayerAddress.length
    case 'uuid':
      if (d.uuid.length !== 16) throw new DhcpEncodeError(`DUID-UUID needs a 16-byte uuid, got ${d.uuid.length} bytes`)
      put16(out, pos, DuidType.uuid); out.set(d.uuid, pos + 2)
      return pos + 18
    case 'raw':
      put16(out, pos, d.typeCode); out.set(d.data, pos + 2)
      return pos + 2 + d.data.length
  }
}

/** Byte-exact DUID comparison (what RFC 8415 means by "matches"). */
export function duidEquals(a: Duid, b: Duid): boolean {
  const la = duidLength(a)
  if (la !== duidLength(b)) return false
  const x = new Uint8Array(la), y = new Uint8Array(la)
  encodeDuid(a, x, 0); encodeDuid(b, y, 0)
  return Buffer.compare(x, y) === 0
}

const hardwareNames: Record<number, string> = { 1: 'Ethernet', 6: 'IEEE 802', 32: 'InfiniBand' }

/** One-line human description, e.g. "DUID-LLT hw 1 (Ethernet) time 700000000 lladdr 02:00:00:00:00:01". */
export function describeDuid(d: Duid): string {
  const mac = (a: Uint8Array) => Array.from(a, x => x.toString(16).padStart(2, '0')).join(':')
  const hw = (t: number) => `hw ${t}${hardwareNames[t] ? ` (${hardwareNames[t]})` : ''}`
  switch (d.type) {
    case 'llt': {
      // DUID-LLT time counts seconds since 2000-01-01T00:00:00Z, modulo 2^32
      const when = new Date(Date.UTC(2000, 0, 1) + d.time * 1000).toISOString().replace('.000Z', 'Z')
      return `DUID-LLT ${hw(d.hardwareType)} time ${d.time} (${when}) lladdr ${mac(d.linkLayerAddress)}`
    }
    case 'en': return `DUID-EN enterprise ${d.enterpriseNumber} id ${toHex(d.identifier)}`
    case 'll': return `DUID-LL ${hw(d.hardwareType)} lladdr ${mac(d.linkLayerAddress)}`
    case 'uuid': {
      const h = toHex(d.uuid)
      return `DUID-UUID ${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
    }
    case 'raw': return `DUID type ${d.typeCode} data ${toHex(d.data) || '(empty)'}`
  }
}
