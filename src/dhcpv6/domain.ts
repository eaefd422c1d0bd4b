// RFC 1035 section 3.1 wire names (no compression, RFC 8415 section 10) <-> presentation text that
// keeps every byte: case is kept, '.', '\' and non-printable bytes are escaped, a trailing '.'
// marks a name ending with the root label. decode(encode(x)) and encode(decode(x)) are exact.
import { byteString } from './bytes.js'
import { DhcpDecodeError, DhcpEncodeError } from './errors.js'
import { optionName } from './options.js'

const maxWireLength = 255

/** Set by decodeName: the offset just past the name (saves allocating a result object per name). */
export let decodedNameEnd = 0

/** Presentation text of each byte value inside a label: itself when printable, else escaped. */
const byteText: string[] = Array.from({ length: 256 }, (_, c) => {
  if (c === 0x2e || c === 0x5c) return '\\' + String.fromCharCode(c)
  if (c > 0x20 && c < 0x7f) return String.fromCharCode(c)
  return '\\' + String(c).padStart(3, '0')
})

/**
 * Decodes one name starting at `start` and ending at the root label or at `end` (a partial name).
 * Malformed labels throw DhcpDecodeError naming option `code`, whose body starts at `bodyStart`.
 */
export function decodeName(b: Uint8Array, start: number, end: number, code: number, bodyStart: number): string {
  let i = start
  let text = ''
  while (i < end) {
    const len = b[i]!
    if (len === 0) {
      i++
      text += '.'
      break
    }
    if (len > 63) {
      const what = (len & 0xc0) === 0xc0 ? 'a compression pointer, which DHCPv6 forbids' : `label type 0x${(len & 0xc0).toString(16)}, labels are at most 63 bytes`
      throw nameError(code, bodyStart, `label at offset ${i} starts with 0x${len.toString(16)}: ${what}`, i)
    }
    if (i + 1 + len > end) throw nameError(code, bodyStart, `label at offset ${i} declares length ${len} but only ${end - i - 1} bytes remain`, i)
    if (i !== start) text += '.'
    text += labelText(b, i + 1, i + 1 + len)
    i += 1 + len
  }
  if (i - start > maxWireLength) throw nameError(code, bodyStart, `name at offset ${start} is ${i - start} bytes long, more than ${maxWireLength}`, start)
  decodedNameEnd = i
  return text
}

/** One label's presentation text; most labels need no escape and take the chunked fast path. */
function labelText(b: Uint8Array, from: number, to: number): string {
  for (let j = from; j < to; j++) {
    const c = b[j]!
    if (c <= 0x20 || c >= 0x7f || c === 0x2e || c === 0x5c) {
      let text = ''
      for (let k = from; k < to; k++) text += byteText[b[k]!]!
      return text
    }
  }
  return byteString(b, from, to)
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
