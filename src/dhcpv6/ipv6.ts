// IPv6 addresses as 16-byte arrays in the model; text form (RFC 5952) only for people.
import { u16 } from './bytes.js'

/** RFC 5952 canonical text: lower case, longest run (>= 2) of zero groups as '::', first on ties. */
export function formatIpv6(a: Uint8Array): string {
  if (a.length !== 16) return `<${a.length}-byte address>`
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push(u16(a, i))
  let bestStart = -1, bestLen = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) { bestStart = i; bestLen = j - i }
    i = j
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map(g => g.toString(16)).join(':')
  if (bestStart < 0) return hex(0, 8)
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`
}

/** Parses IPv6 text (with '::' and an optional dotted IPv4 tail); undefined when it is not one. */
export function parseIpv6(text: string): Uint8Array | undefined {
  let s = text.trim()
  const tail: number[] = []
  const v4 = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (v4) {
    const octets = v4.slice(2).map(Number)
    if (octets.some(o => o > 255)) return undefined
    tail.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!)
    s = v4[1]!.endsWith('::') ? v4[1]! : v4[1]!.slice(0, -1)
  }
  const parts = s.split('::')
  if (parts.length > 2) return undefined
  const parse = (p: string): number[] | undefined => {
    if (p === '') return []
    const out: number[] = []
    for (const g of p.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined
      out.push(parseInt(g, 16))
    }
    return out
  }
  const head = parse(parts[0]!)
  const rest = parts.length === 2 ? parse(parts[1]!) : []
  if (!head || !rest) return undefined
  const given = head.length + rest.length + tail.length
  let groups: number[]
  if (parts.length === 2) {
    if (given > 7) return undefined
    groups = [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail]
  } else {
    if (given !== 8) return undefined
    groups = [...head, ...tail]
  }
  const out = new Uint8Array(16)
  groups.forEach((g, i) => { out[2 * i] = g >> 8; out[2 * i + 1] = g & 0xff })
  return out
}
