// Big-endian reads and writes on plain Uint8Arrays (faster than DataView for our short fields).

export function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!
}

export function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0
}

export function put16(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 8
  b[i + 1] = v
}

export function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 24
  b[i + 1] = v >>> 16
  b[i + 2] = v >>> 8
  b[i + 3] = v
}

const hexDigits = '0123456789abcdef'

export function toHex(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i++) s += hexDigits[b[i]! >> 4]! + hexDigits[b[i]! & 15]!
  return s
}

/** Parses hex (whitespace and ':' separators allowed); returns an error text instead of throwing. */
export function parseHex(text: string): Uint8Array | { error: string } {
  const clean = text.replace(/[\s:]/g, '').replace(/^0x/i, '')
  const bad = clean.search(/[^0-9a-fA-F]/)
  if (bad >= 0) return { error: `'${clean[bad]}' at position ${bad + 1} is not a hex digit` }
  if (clean.length % 2 !== 0) return { error: `odd number of hex digits (${clean.length}): every byte needs two` }
  return Uint8Array.from(Buffer.from(clean, 'hex'))
}
