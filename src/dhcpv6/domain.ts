// RFC 1035 section 3.1 wire names (no compression, RFC 8415 section 10) <-> presentation text that
// keeps every byte: case is kept, '.', '\' and non-printable bytes are escaped, a trailing '.'
// marks a name ending with the root label. decode(encode(x)) and encode(decode(x)) are exact.
import { byteString } from './bytes.js'
import { DhcpDecodeError, DhcpEncodeError } from './errors.js'
import { optionName } from './options.js'

const maxWireLength = 255
const fromCharCode = String.fromCharCode

/** Set by decodeName: the offset just past the name (saves allocating a result object per name). */
export let decodedNameEnd = 0

/** Presentation text of each byte value inside a label: itself when printable, else escaped. */
const byteText: string[] = Array.from({ length: 256 }, (_, c) => {
  if (c === 0x2e || c === 0x5c) return '\\' + String.fromCharCode(c)
  if (c > 0x20 && c < 0x7f) return String.fromCharCode(c)
  return '\\' + String(c).padStart(3, '0')
})

/** 1 for the bytes a label can hold as themselves in presentation text (0x21-0x7e but '.' and '\'). */
const plainByte = Uint8Array.from({ length: 256 }, (_, c) => (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c ? 1 : 0))

/** The presentation text of the name being decoded, when all its bytes are plain: labels and dots. */
const nameChars = new Uint8Array(maxWireLength)

// Recently decoded names, by their wire bytes. A client sees the same few names again and again
// (its server's domain search list and FQDN in every Advertise and Reply), and building a name's
// text is the dearest step in decoding a typical Advertise. A name whose bytes match a slot gets
// that slot's string: the same text decoding would build, as strings are immutable.
const nameSlots = 4
const slotWire = new Uint8Array(nameSlots * maxWireLength)
/** Wire length of each slot's name; 0 while the slot is empty. */
const slotLength = new Int32Array(nameSlots)
/** Whether the slot's name ends with the root label; one that does not ran to the end of its area. */
const slotQualified = new Uint8Array(nameSlots)
const slotText: string[] = new Array<string>(nameSlots).fill('')
let nextSlot = 0

/** The slot whose name is b[start, ...) within b[start, end), or -1. */
function findSlot(b: Uint8Array, start: number, end: number): number {
  for (let slot = 0; slot < nameSlots; slot++) {
    const length = slotLength[slot]!
    if (length === 0 || start + length > end || (slotQualified[slot] === 0 && start + length !== end)) continue
    const base = slot * maxWireLength
    let j = 0
    while (j < length && b[start + j] === slotWire[base + j]) j++
    if (j === length) return slot
  }
  return -1
}

function remember(b: Uint8Array, start: number, end: number, qualified: number, text: string): void {
  const slot = nextSlot
  nextSlot = (slot + 1) % nameSlots
  const base = slot * maxWireLength
  for (let j = start; j < end; j++) slotWire[base + j - start] = b[j]!
  slotLength[slot] = end - start
  slotQualified[slot] = qualified
  slotText[slot] = text
}

/**
 * Decodes one name starting at `start` and ending at the root label or at `end` (a partial name).
 * Malformed labels throw DhcpDecodeError naming option `code`, whose body starts at `bodyStart`.
 */
export function decodeName(b: Uint8Array, start: number, end: number, code: number, bodyStart: number): string {
  const slot = findSlot(b, start, end)
  if (slot >= 0) {
    decodedNameEnd = start + slotLength[slot]!
    return slotText[slot]!
  }
  // One pass checks the labels and copies their bytes, dots between them, into nameChars; the text
  // is then made in one go: building it label by label cost a string and a concatenation per label.
  let i = start
  let n = 0 // chars in nameChars; writes past its end are dropped, and such a name is refused below
  let plain = 1
  let qualified = 0
  while (i < end) {
    const len = b[i]!
    if (len === 0) {
      i++
      nameChars[n++] = 0x2e
      qualified = 1
      break
    }
    if (len > 63) {
      const what = (len & 0xc0) === 0xc0 ? 'a compression pointer, which DHCPv6 forbids' : `label type 0x${(len & 0xc0).toString(16)}, labels are at most 63 bytes`
      throw nameError(code, bodyStart, `label at offset ${i} starts with 0x${len.toString(16)}: ${what}`, i)
    }
    const labelEnd = i + 1 + len
    if (labelEnd > end) throw nameError(code, bodyStart, `label at offset ${i} declares length ${len} but only ${end - i - 1} bytes remain`, i)
    if (i !== start) nameChars[n++] = 0x2e
    for (let j = i + 1; j < labelEnd; j++) {
      const c = b[j]!
      plain &= plainByte[c]!
      nameChars[n++] = c
    }
    i = labelEnd
  }
  if (i - start > maxWireLength) throw nameError(code, bodyStart, `name at offset ${start} is ${i - start} bytes long, more than ${maxWireLength}`, start)
  decodedNameEnd = i
  const text = plain === 1 ? plainNameText(n) : escapedNameText(b, start, i)
  if (i > start) remember(b, start, i, qualified, text)
  return text
}

/** nameChars[0, n) as a string: one String.fromCharCode call for the usual short names. */
function plainNameText(n: number): string {
  const c = nameChars
  switch (n) {
    case 1: return fromCharCode(c[0]!)
    case 2: return fromCharCode(c[0]!, c[1]!)
    case 3: return fromCharCode(c[0]!, c[1]!, c[2]!)
    case 4: return fromCharCode(c[0]!, c[1]!, c[2]!, c[3]!)
    case 5: return fromCharCode(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!)
    case 6: return fromCharCode(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!)
    case 7: return fromCharCode(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!)
    case 8: return fromCharCode(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!)
    case 9: return fromCharCode(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!)
    case 10: return fromCharCode(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!)
    case 11: return fromCharCode(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!)
    case 12: return fromCharCode(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!)
    case 13: return fromCharCode(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!)
    case 14: return fromCharCode(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!)
    case 15: return fromCharCode(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!)
    case 16: return fromCharCode(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!)
    default: return byteString(c, 0, n)
  }
}

/** Text of the (already checked) name b[start, end) that has bytes to escape: built per byte. */
function escapedNameText(b: Uint8Array, start: number, end: number): string {
  let text = ''
  for (let i = start; i < end;) {
    const len = b[i]!
    if (len === 0) return text + '.'
    if (i !== start) text += '.'
    for (let k = i + 1; k <= i + len; k++) text += byteText[b[k]!]!
    i += 1 + len
  }
  return text
}

function nameError(code: number, bodyStart: number, problem: string, offset: number): DhcpDecodeError {
  return new DhcpDecodeError(`option ${code} (${optionName(code)}) at offset ${bodyStart - 4}: ${problem}`, offset)
}

/** Wire length of a presentation name; writes it at `pos` when `out` is given. */
export function encodeName(name: string, out?: Uint8Array, pos = 0): number {
  if (name === '') return 0
  if (name === '.') {
    if (out) out[pos] = 0
    return 1
  }
  let length = 0
  let labelStart = pos // where the current label's length byte goes
  let labelLength = 0
  let fullyQualified = false
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i)
    if (c === 0x2e) {
      checkLabel(name, labelLength)
      if (out) out[labelStart] = labelLength
      length += 1 + labelLength
      labelStart = pos + length
      labelLength = 0
      if (i === name.length - 1) fullyQualified = true
      continue
    }
    if (c > 0x7f) throw nameEncodeError(name, `character '${String.fromCharCode(c)}' is not ASCII: write its bytes as \\DDD escapes`)
    if (c === 0x5c) {
      if (isDigit(name, i + 1) && isDigit(name, i + 2) && isDigit(name, i + 3)) {
        c = Number(name.slice(i + 1, i + 4))
        if (c > 255) throw nameEncodeError(name, `escape \\${name.slice(i + 1, i + 4)} is above 255`)
        i += 3
      } else {
        if (i + 1 >= name.length) throw nameEncodeError(name, 'ends with a lone backslash')
        c = name.charCodeAt(++i)
      }
    }
    if (out) out[labelStart + 1 + labelLength] = c
    labelLength++
  }
  if (!fullyQualified) {
    checkLabel(name, labelLength)
    if (out) out[labelStart] = labelLength
    length += 1 + labelLength
  } else {
    if (out) out[pos + length] = 0
    length += 1
  }
  if (length > maxWireLength) throw nameEncodeError(name, `${length} bytes on the wire, more than ${maxWireLength}`)
  return length
}

function isDigit(text: string, i: number): boolean {
  const c = text.charCodeAt(i) // NaN past the end
  return c >= 0x30 && c <= 0x39
}

function checkLabel(name: string, labelLength: number): void {
  if (labelLength === 0) throw nameEncodeError(name, 'empty label (two dots in a row, or a leading dot)')
  if (labelLength > 63) throw nameEncodeError(name, `label of ${labelLength} bytes, the limit is 63`)
}

function nameEncodeError(name: string, why: string): DhcpEncodeError {
  return new DhcpEncodeError(`domain name '${name}': ${why}`)
}
