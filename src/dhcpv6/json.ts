// The JSON form of a message (for `ra6dhcp decode --json` and `ra6dhcp encode`): the model with
// IPv6 addresses as text, other bytes as hex strings and the 64-bit replay counter as a decimal
// string. Which field holds what is decided by field name, listed here once.
import { parseHex, toHex } from './bytes.js'
import { DhcpEncodeError } from './errors.js'
import { formatIpv6, parseIpv6 } from './ipv6.js'
import type { Message } from './model.js'

const addressFields = new Set(['address', 'linkAddress', 'peerAddress', 'prefix', 'servers'])
const bytesFields = new Set(['linkLayerAddress', 'identifier', 'uuid', 'data', 'body', 'classes', 'value', 'messageBytes'])
const bigintFields = new Set(['replayDetection'])

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

function convertOut(key: string, value: unknown): Json {
  if (value instanceof Uint8Array) return addressFields.has(key) ? formatIpv6(value) : toHex(value)
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return value.map(v => convertOut(key, v))
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: Json } = {}
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = convertOut(k, v)
    return out
  }
  return value as Json
}

export function messageToJson(msg: Message): Json {
  return convertOut('', msg)
}

function convertIn(key: string, value: unknown, path: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => convertIn(key, v, `${path}[${i}]`))
  if (addressFields.has(key)) {
    if (typeof value !== 'string') throw new DhcpEncodeError(`${path} must be an IPv6 address string like "2001:db8::1"`)
    const a = parseIpv6(value)
    if (!a) throw new DhcpEncodeError(`${path}: '${value}' is not an IPv6 address (example: "2001:db8::1")`)
    return a
  }
  // 'value' is bytes in an RKAP info but a number in a Preference option
  if (bytesFields.has(key) && typeof value !== 'number') {
    if (typeof value !== 'string') throw new DhcpEncodeError(`${path} must be a hex string like "0a1b2c"`)
    const b = parseHex(value)
    if ('error' in b) throw new DhcpEncodeError(`${path}: ${b.error}`)
    return b
  }
  if (bigintFields.has(key)) {
    if (typeof value !== 'string' && typeof value !== 'number') throw new DhcpEncodeError(`${path} must be a decimal string`)
    try {
      return BigInt(value)
    } catch {
      throw new DhcpEncodeError(`${path}: '${value}' is not an integer`)
    }
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = convertIn(k, v, path ? `${path}.${k}` : k)
    return out
  }
  return value
}

/**
 * Turns the JSON form back into a message model. Field values are checked when the model is
 * encoded (encodeMessage throws DhcpEncodeError naming the field).
 */
export function messageFromJson(json: unknown): Message {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new DhcpEncodeError('a message must be a JSON object like {"type":"solicit","transactionId":1,"options":[]}')
  }
  return convertIn('', json, '') as Message
}
