// A /64 taken from a delegated prefix (IA_PD) for a downstream interface.
import { isIPv6 } from 'node:net'
import { canonicalIPv6 } from './addresses.js'

function toBigInt(address: string): bigint {
  const full = canonicalIPv6(address)
  const [head = '', tail = ''] = full.split('::')
  const h = head ? head.split(':') : []
  const tl = full.includes('::') ? (tail ? tail.split(':') : []) : []
  const groups = full.includes('::') ? [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl] : h
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n)
}

function fromBigInt(value: bigint): string {
  const groups: string[] = []
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16))
  return canonicalIPv6(groups.join(':'))
}

/**
 * The `subnetIndex`-th /64 inside `prefix`/`length` (index 0 is the first), e.g. 2001:db8:1::/56
 * index 3 -> 2001:db8:1:3::. Throws when the prefix is longer than /64 or the index does not fit.
 */
export function subnet64(prefix: string, length: number, subnetIndex = 0): string {
  if (!isIPv6(prefix)) throw new RangeError(`'${prefix}' is not an IPv6 prefix`)
  if (!Number.isInteger(length) || length < 0 || length > 64) throw new RangeError(`a /${length} delegated prefix has no /64 to give: it must be /64 or shorter`)
  const available = 1n << BigInt(64 - length)
  const index = BigInt(subnetIndex)
  if (index < 0n || index >= available) throw new RangeError(`subnet index ${subnetIndex} does not fit in a /${length} (0..${available - 1n})`)
  const mask = length === 0 ? 0n : ((1n << BigInt(length)) - 1n) << BigInt(128 - length)
  return fromBigInt((toBigInt(prefix) & mask) | (index << 64n))
}

/** The address `interfaceId` (default ::1) inside a /64, e.g. 2001:db8:1:3::1. */
export function addressInSubnet(subnet: string, interfaceId = 1n): string {
  if (interfaceId < 0n || interfaceId >= 1n << 64n) throw new RangeError('interface identifier must fit in 64 bits')
  return fromBigInt(toBigInt(subnet) | interfaceId)
}
