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

/** The array the last view() was cut from, and its backing store: read once per input, not per view. */
let viewSource: Uint8Array | undefined
let viewBuffer: ArrayBufferLike = new ArrayBuffer(0)
let viewBase = 0

/**
 * b[from, to) as a plain Uint8Array view (no copy); the caller has checked the bounds. The
 * constructor on a known ArrayBuffer costs about two thirds of `subarray`, which looks up
 * `constructor[Symbol.species]` per call (and for a Buffer makes another Buffer, slower still).
 * Holds a reference to the last array it cut from, so at most one input is kept alive by it.
 */
export function view(b: Uint8Array, from: number, to: number): Uint8Array {
  if (b !== viewSource) {
    viewSource = b
    viewBuffer = b.buffer
    viewBase = b.byteOffset
  }
  return new Uint8Array(viewBuffer, viewBase + from, to - from)
}

const fromCharCode = String.fromCharCode

/**
 * b[from, to) as a string with one char per byte (Latin-1). Built from 8-byte chunks: one
 * String.fromCharCode per chunk allocates far fewer intermediate strings than one `+=` per byte.
 */
export function byteString(b: Uint8Array, from: number, to: number): string {
  let text = ''
  let j = from
  for (; j + 8 <= to; j += 8) text += fromCharCode(b[j]!, b[j + 1]!, b[j + 2]!, b[j + 3]!, b[j + 4]!, b[j + 5]!, b[j + 6]!, b[j + 7]!)
  switch (to - j) {
    case 1: return text + fromCharCode(b[j]!)
    case 2: return text + fromCharCode(b[j]!, b[j + 1]!)
    case 3: return text + fromCharCode(b[j]!, b[j + 1]!, b[j + 2]!)
    case 4: return text + fromCharCode(b[j]!, b[j + 1]!, b[j + 2]!, b[j + 3]!)
    case 5: return text + fromCharCode(b[j]!, b[j + 1]!, b[j + 2]!, b[j + 3]!, b[j + 4]!)
    case 6: return text + fromCharCode(b[j]!, b[j + 1]!, b[j + 2]!, b[j + 3]!, b[j + 4]!, b[j + 5]!)
    case 7: return text + fromCharCode(b[j]!, b[j + 1]!, b[j + 2]!, b[j + 3]!, b[j + 4]!, b[j + 5]!, b[j + 6]!)
    default: return text
  }
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
