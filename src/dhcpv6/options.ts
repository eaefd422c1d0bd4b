// The option registry: for each option code, its decoder, encoder and encoded length, in one place.
// Decoders read b[start, end) (the option body) and throw DhcpDecodeError on malformed bodies;
// offsets in errors are offsets in the buffer given to decodeMessage.
import { byteString, put16, put32, u16, u32, view } from './bytes.js'
import { OptionCode, type KnownOptionKind } from './constants.js'
import { decodedNameEnd, decodeName, encodeName } from './domain.js'
import { decodeDuid, duidLength, encodeDuid } from './duid.js'
import { DhcpDecodeError, DhcpEncodeError } from './errors.js'
import { decodeMessageAt, encodeMessageAt, messageLength } from './message.js'
import type { Bytes, Duid, NtpServerSuboption, Option, OptionOf } from './model.js'

interface OptionCodec<K extends KnownOptionKind> {
  code: (typeof OptionCode)[K]
  kind: K
  /** IANA-style name used in error messages and the readable tree. */
  name: string
  decode(b: Uint8Array, start: number, end: number): OptionOf<K>
  /** Body length in bytes (without the 4-byte option header). */
  length(o: OptionOf<K>): number
  /** Writes the body at `pos`; returns the position after it. */
  encode(o: OptionOf<K>, out: Uint8Array, pos: number): number
}

// ---- decode errors, worded once ----

function optionLabel(code: number): string {
  return `option ${code} (${optionName(code)})`
}

function fail(code: number, start: number, problem: string, offset = start - 4): never {
  const separator = problem.startsWith(':') ? '' : ' '
  throw new DhcpDecodeError(`${optionLabel(code)} at offset ${start - 4}${separator}${problem}`, offset)
}

function expectLength(code: number, start: number, end: number, expected: number): void {
  if (end - start !== expected) fail(code, start, `has length ${end - start}, expected ${expected}`)
}

function expectAtLeast(code: number, start: number, end: number, minimum: number): void {
  if (end - start < minimum) fail(code, start, `has length ${end - start}, expected at least ${minimum}`)
}

function expectMultiple(code: number, start: number, end: number, unit: number): void {
  if ((end - start) % unit !== 0) fail(code, start, `has length ${end - start}, expected a multiple of ${unit}`)
}

// ---- encode checks ----

function checkUint(value: number, bits: 8 | 16 | 32, what: string): void {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new DhcpEncodeError(`${what} must be an integer from 0 to ${max}, got ${value}`)
  }
}

function checkAddress(a: Bytes, what: string): void {
  if (!(a instanceof Uint8Array) || a.length !== 16) {
    throw new DhcpEncodeError(`${what} must be a 16-byte IPv6 address, got ${a instanceof Uint8Array ? `${a.length} bytes` : typeof a}`)
  }
}

function checkBytes(a: Bytes, what: string, maxLength = 0xffff): void {
  if (!(a instanceof Uint8Array)) throw new DhcpEncodeError(`${what} must be bytes, got ${typeof a}`)
  if (a.length > maxLength) throw new DhcpEncodeError(`${what} is ${a.length} bytes, the limit is ${maxLength}`)
}

// ---- shared shapes ----

function decodeAddresses(b: Uint8Array, start: number, end: number): Bytes[] {
  if (start >= end) return []
  const out: Bytes[] = [view(b, start, start + 16)]
  for (let i = start + 16; i < end; i += 16) out.push(view(b, i, i + 16))
  return out
}

function encodeAddresses(list: Bytes[], out: Uint8Array, pos: number, what: string): number {
  for (const a of list) {
    checkAddress(a, what)
    out.set(a, pos)
    pos += 16
  }
  return pos
}

/** length-prefixed opaque items (User Class, Vendor Class: RFC 8415 sections 21.15, 21.16). */
function decodeItems(code: number, b: Uint8Array, start: number, from: number, end: number): Bytes[] {
  const items: Bytes[] = []
  let i = from
  while (i < end) {
    if (end - i < 2) fail(code, start, `: item length at offset ${i} needs 2 bytes but only ${end - i} remain`, i)
    const len = u16(b, i)
    if (i + 2 + len > end) fail(code, start, `: item at offset ${i} declares length ${len} but only ${end - i - 2} bytes remain`, i)
    items.push(view(b, i + 2, i + 2 + len))
    i += 2 + len
  }
  return items
}

function itemsLength(items: Bytes[]): number {
  let n = 0
  for (const item of items) n += 2 + item.length
  return n
}

function encodeItems(items: Bytes[], out: Uint8Array, pos: number, what: string): number {
  for (const item of items) {
    checkBytes(item, what)
    put16(out, pos, item.length)
    out.set(item, pos + 2)
    pos += 2 + item.length
  }
  return pos
}

function decodeDuidOption(code: number, b: Uint8Array, start: number, end: number): Duid {
  expectAtLeast(code, start, end, 2)
  return decodeDuid(b, start, end)
}

// ---- the registry ----

function codec<K extends KnownOptionKind>(kind: K, name: string, rest: Omit<OptionCodec<K>, 'kind' | 'code' | 'name'>): OptionCodec<K> {
  return { kind, code: OptionCode[kind], name, ...rest }
}

const statusTextDecoder = new TextDecoder('utf-8', { fatal: true })
const textEncoder = new TextEncoder()

const ntpSuboptionCodes = { 'server-address': 1, 'multicast-address': 2, fqdn: 3 } as const

function ntpSuboptionLength(s: NtpServerSuboption): number {
  switch (s.type) {
    case 'server-address':
    case 'multicast-address': return 4 + 16
    case 'fqdn': return 4 + encodeName(s.name)
    case 'unknown': return 4 + s.data.length
  }
}

const codecs = [
  codec('client-id', 'Client Identifier', {
    decode: (b, s, e) => ({ kind: 'client-id', duid: decodeDuidOption(1, b, s, e) }),
    length: o => duidLength(o.duid),
    encode: (o, out, pos) => encodeDuid(o.duid, out, pos),
  }),
  codec('server-id', 'Server Identifier', {
    decode: (b, s, e) => ({ kind: 'server-id', duid: decodeDuidOption(2, b, s, e) }),
    length: o => duidLength(o.duid),
    encode: (o, out, pos) => encodeDuid(o.duid, out, pos),
  }),
  codec('ia-na', 'IA_NA', {
    decode: (b, s, e) => {
      expectAtLeast(3, s, e, 12)
      return { kind: 'ia-na', iaid: u32(b, s), t1: u32(b, s + 4), t2: u32(b, s + 8), options: decodeOptions(b, s + 12, e) }
    },
    length: o => 12 + optionsLength(o.options),
    encode: (o, out, pos) => {
      checkUint(o.iaid, 32, 'IA_NA iaid'); checkUint(o.t1, 32, 'IA_NA t1'); checkUint(o.t2, 32, 'IA_NA t2')
      put32(out, pos, o.iaid); put32(out, pos + 4, o.t1); put32(out, pos + 8, o.t2)
      return encodeOptions(o.options, out, pos + 12)
    },
  }),
  codec('ia-ta', 'IA_TA', {
    decode: (b, s, e) => {
      expectAtLeast(4, s, e, 4)
      return { kind: 'ia-ta', iaid: u32(b, s), options: decodeOptions(b, s + 4, e) }
    },
    length: o => 4 + optionsLength(o.options),
    encode: (o, out, pos) => {
      checkUint(o.iaid, 32, 'IA_TA iaid')
      put32(out, pos, o.iaid)
      return encodeOptions(o.options, out, pos + 4)
    },
  }),
  codec('ia-address', 'IA Address', {
    decode: (b, s, e) => {
      expectAtLeast(5, s, e, 24)
      return {
        kind: 'ia-address', address: view(b, s, s + 16), preferredLifetime: u32(b, s + 16),
        validLifetime: u32(b, s + 20), options: decodeOptions(b, s + 24, e),
      }
    },
    length: o => 24 + optionsLength(o.options),
    encode: (o, out, pos) => {
      checkAddress(o.address, 'IA Address address')
      checkUint(o.preferredLifetime, 32, 'IA Address preferredLifetime'); checkUint(o.validLifetime, 32, 'IA Address validLifetime')
      out.set(o.address, pos); put32(out, pos + 16, o.preferredLifetime); put32(out, pos + 20, o.validLifetime)
      return encodeOptions(o.options, out, pos + 24)
    },
  }),
  codec('oro', 'Option Request', {
    decode: (b, s, e) => {
      expectMultiple(6, s, e, 2)
      const codes: number[] = []
      for (let i = s; i < e; i += 2) codes.push(u16(b, i))
      return { kind: 'oro', codes }
    },
    length: o => 2 * o.codes.length,
    encode: (o, out, pos) => {
      for (const c of o.codes) { checkUint(c, 16, 'Option Request code'); put16(out, pos, c); pos += 2 }
      return pos
    },
  }),
  codec('preference', 'Preference', {
    decode: (b, s, e) => { expectLength(7, s, e, 1); return { kind: 'preference', value: b[s]! } },
    length: () => 1,
    encode: (o, out, pos) => { checkUint(o.value, 8, 'Preference value'); out[pos] = o.value; return pos + 1 },
  }),
  codec('elapsed-time', 'Elapsed Time', {
    decode: (b, s, e) => { expectLength(8, s, e, 2); return { kind: 'elapsed-time', hundredths: u16(b, s) } },
    length: () => 2,
    encode: (o, out, pos) => { checkUint(o.hundredths, 16, 'Elapsed Time hundredths'); put16(out, pos, o.hundredths); return pos + 2 },
  }),
  codec('relay-message', 'Relay Message', {
    decode: (b, s, e) => ({ kind: 'relay-message', message: decodeMessageAt(b, s, e) }),
    length: o => messageLength(o.message),
    encode: (o, out, pos) => encodeMessageAt(o.message, out, pos),
  }),
  codec('authentication', 'Authentication', {
    decode: (b, s, e) => {
      expectAtLeast(11, s, e, 11)
      const protocol = b[s]!
      const replayDetection = (BigInt(u32(b, s + 3)) << 32n) | BigInt(u32(b, s + 7))
      const info = protocol === 3 && e - s === 11 + 17
        ? { format: 'rkap' as const, type: b[s + 11]!, value: view(b, s + 12, e) }
        : { format: 'raw' as const, data: view(b, s + 11, e) }
      return { kind: 'authentication', protocol, algorithm: b[s + 1]!, rdm: b[s + 2]!, replayDetection, info }
    },
    length: o => 11 + (o.info.format === 'rkap' ? 17 : o.info.data.length),
    encode: (o, out, pos) => {
      checkUint(o.protocol, 8, 'Authentication protocol'); checkUint(o.algorithm, 8, 'Authentication algorithm')
      checkUint(o.rdm, 8, 'Authentication rdm')
      if (typeof o.replayDetection !== 'bigint' || o.replayDetection < 0n || o.replayDetection >= 1n << 64n) {
        throw new DhcpEncodeError(`Authentication replayDetection must be a 64-bit unsigned bigint, got ${String(o.replayDetection)}`)
      }
      out[pos] = o.protocol; out[pos + 1] = o.algorithm; out[pos + 2] = o.rdm
      put32(out, pos + 3, Number(o.replayDetection >> 32n)); put32(out, pos + 7, Number(o.replayDetection & 0xffffffffn))
      if (o.info.format === 'rkap') {
        checkUint(o.info.type, 8, 'RKAP type')
        if (o.info.value.length !== 16) throw new DhcpEncodeError(`RKAP value must be 16 bytes, got ${o.info.value.length}`)
        out[pos + 11] = o.info.type; out.set(o.info.value, pos + 12)
        return pos + 28
      }
      out.set(o.info.data, pos + 11)
      return pos + 11 + o.info.data.length
    },
  }),
  codec('server-unicast', 'Server Unicast', {
    decode: (b, s, e) => { expectLength(12, s, e, 16); return { kind: 'server-unicast', address: view(b, s, e) } },
    length: () => 16,
    encode: (o, out, pos) => { checkAddress(o.address, 'Server Unicast address'); out.set(o.address, pos); return pos + 16 },
  }),
  codec('status-code', 'Status Code', {
    decode: (b, s, e) => {
      expectAtLeast(13, s, e, 2)
      const status = u16(b, s)
      let ascii = true
      for (let i = s + 2; i < e; i++) if (b[i]! > 0x7f) { ascii = false; break }
      if (ascii) return { kind: 'status-code', status, message: byteString(b, s + 2, e) }
      try {
        return { kind: 'status-code', status, message: statusTextDecoder.decode(view(b, s + 2, e)) }
      } catch {
        // not UTF-8 (RFC 8415 requires it, some servers send Latin-1): keep the exact bytes
        const bytes = view(b, s + 2, e)
        return { kind: 'status-code', status, message: Buffer.from(bytes).toString('latin1'), messageBytes: bytes }
      }
    },
    length: o => 2 + (o.messageBytes ? o.messageBytes.length : Buffer.byteLength(o.message, 'utf8')),
    encode: (o, out, pos) => {
      checkUint(o.status, 16, 'Status Code status')
      put16(out, pos, o.status)
      if (o.messageBytes) {
        out.set(o.messageBytes, pos + 2)
        return pos + 2 + o.messageBytes.length
      }
      const written = textEncoder.encodeInto(o.message, out.subarray(pos + 2)).written
      return pos + 2 + written
    },
  }),
  codec('rapid-commit', 'Rapid Commit', {
    decode: (_b, s, e) => { expectLength(14, s, e, 0); return { kind: 'rapid-commit' } },
    length: () => 0,
    encode: (_o, _out, pos) => pos,
  }),
  codec('user-class', 'User Class', {
    decode: (b, s, e) => ({ kind: 'user-class', classes: decodeItems(15, b, s, s, e) }),
    length: o => itemsLength(o.classes),
    encode: (o, out, pos) => encodeItems(o.classes, out, pos, 'User Class class'),
  }),
  codec('vendor-class', 'Vendor Class', {
    decode: (b, s, e) => {
      expectAtLeast(16, s, e, 4)
      return { kind: 'vendor-class', enterpriseNumber: u32(b, s), data: decodeItems(16, b, s, s + 4, e) }
    },
    length: o => 4 + itemsLength(o.data),
    encode: (o, out, pos) => {
      checkUint(o.enterpriseNumber, 32, 'Vendor Class enterpriseNumber')
      put32(out, pos, o.enterpriseNumber)
      return encodeItems(o.data, out, pos + 4, 'Vendor Class data item')
    },
  }),
  codec('vendor-opts', 'Vendor-specific Information', {
    decode: (b, s, e) => {
      expectAtLeast(17, s, e, 4)
      const suboptions = []
      let i = s + 4
      while (i < e) {
        if (e - i < 4) fail(17, s, `: suboption header at offset ${i} needs 4 bytes but only ${e - i} remain`, i)
        const code = u16(b, i), len = u16(b, i + 2)
        if (i + 4 + len > e) fail(17, s, `: suboption ${code} at offset ${i} declares length ${len} but only ${e - i - 4} bytes remain`, i)
        suboptions.push({ code, data: view(b, i + 4, i + 4 + len) })
        i += 4 + len
      }
      return { kind: 'vendor-opts', enterpriseNumber: u32(b, s), suboptions }
    },
    length: o => {
      let n = 4
      for (const sub of o.suboptions) n += 4 + sub.data.length
      return n
    },
    encode: (o, out, pos) => {
      checkUint(o.enterpriseNumber, 32, 'Vendor-specific Information enterpriseNumber')
      put32(out, pos, o.enterpriseNumber)
      pos += 4
      for (const sub of o.suboptions) {
        checkUint(sub.code, 16, 'vendor suboption code'); checkBytes(sub.data, 'vendor suboption data')
        put16(out, pos, sub.code); put16(out, pos + 2, sub.data.length); out.set(sub.data, pos + 4)
        pos += 4 + sub.data.length
      }
      return pos
    },
  }),
  codec('interface-id', 'Interface-Id', {
    decode: (b, s, e) => ({ kind: 'interface-id', data: view(b, s, e) }),
    length: o => o.data.length,
    encode: (o, out, pos) => { out.set(o.data, pos); return pos + o.data.length },
  }),
  codec('reconfigure-message', 'Reconfigure Message', {
    decode: (b, s, e) => { expectLength(19, s, e, 1); return { kind: 'reconfigure-message', msgType: b[s]! } },
    length: () => 1,
    encode: (o, out, pos) => { checkUint(o.msgType, 8, 'Reconfigure Message msgType'); out[pos] = o.msgType; return pos + 1 },
  }),
  codec('reconfigure-accept', 'Reconfigure Accept', {
    decode: (_b, s, e) => { expectLength(20, s, e, 0); return { kind: 'reconfigure-accept' } },
    length: () => 0,
    encode: (_o, _out, pos) => pos,
  }),
  codec('dns-servers', 'DNS Recursive Name Server', {
    decode: (b, s, e) => { expectMultiple(23, s, e, 16); return { kind: 'dns-servers', servers: decodeAddresses(b, s, e) } },
    length: o => 16 * o.servers.length,
    encode: (o, out, pos) => encodeAddresses(o.servers, out, pos, 'DNS server'),
  }),
  codec('domain-list', 'Domain Search List', {
    decode: (b, s, e) => {
      if (s === e) return { kind: 'domain-list', domains: [] }
      const domains: string[] = [decodeName(b, s, e, 24, s)]
      for (let i = decodedNameEnd; i < e; i = decodedNameEnd) domains.push(decodeName(b, i, e, 24, s))
      return { kind: 'domain-list', domains }
    },
    length: o => {
      let n = 0
      for (const d of o.domains) n += encodeName(d)
      return n
    },
    encode: (o, out, pos) => {
      for (const d of o.domains) {
        if (d === '') throw new DhcpEncodeError('Domain Search List: empty domain name (use "." for the root)')
        pos += encodeName(d, out, pos)
      }
      return pos
    },
  }),
  codec('ia-pd', 'IA_PD', {
    decode: (b, s, e) => {
      expectAtLeast(25, s, e, 12)
      return { kind: 'ia-pd', iaid: u32(b, s), t1: u32(b, s + 4), t2: u32(b, s + 8), options: decodeOptions(b, s + 12, e) }
    },
    length: o => 12 + optionsLength(o.options),
    encode: (o, out, pos) => {
      checkUint(o.iaid, 32, 'IA_PD iaid'); checkUint(o.t1, 32, 'IA_PD t1'); checkUint(o.t2, 32, 'IA_PD t2')
      put32(out, pos, o.iaid); put32(out, pos + 4, o.t1); put32(out, pos + 8, o.t2)
      return encodeOptions(o.options, out, pos + 12)
    },
  }),
  codec('ia-prefix', 'IA Prefix', {
    decode: (b, s, e) => {
      expectAtLeast(26, s, e, 25)
      return {
        kind: 'ia-prefix', preferredLifetime: u32(b, s), validLifetime: u32(b, s + 4), prefixLength: b[s + 8]!,
        prefix: view(b, s + 9, s + 25), options: decodeOptions(b, s + 25, e),
      }
    },
    length: o => 25 + optionsLength(o.options),
    encode: (o, out, pos) => {
      checkUint(o.preferredLifetime, 32, 'IA Prefix preferredLifetime'); checkUint(o.validLifetime, 32, 'IA Prefix validLifetime')
      checkUint(o.prefixLength, 8, 'IA Prefix prefixLength'); checkAddress(o.prefix, 'IA Prefix prefix')
      put32(out, pos, o.preferredLifetime); put32(out, pos + 4, o.validLifetime); out[pos + 8] = o.prefixLength
      out.set(o.prefix, pos + 9)
      return encodeOptions(o.options, out, pos + 25)
    },
  }),
  codec('sntp-servers', 'SNTP Servers', {
    decode: (b, s, e) => { expectMultiple(31, s, e, 16); return { kind: 'sntp-servers', servers: decodeAddresses(b, s, e) } },
    length: o => 16 * o.servers.length,
    encode: (o, out, pos) => encodeAddresses(o.servers, out, pos, 'SNTP server'),
  }),
  codec('information-refresh-time', 'Information Refresh Time', {
    decode: (b, s, e) => { expectLength(32, s, e, 4); return { kind: 'information-refresh-time', seconds: u32(b, s) } },
    length: () => 4,
    encode: (o, out, pos) => { checkUint(o.seconds, 32, 'Information Refresh Time seconds'); put32(out, pos, o.seconds); return pos + 4 },
  }),
  codec('fqdn', 'Client FQDN', {
    decode: (b, s, e) => {
      expectAtLeast(39, s, e, 1)
      const name = decodeName(b, s + 1, e, 39, s)
      if (decodedNameEnd !== e) fail(39, s, `: ${e - decodedNameEnd} bytes follow the name's root label at offset ${decodedNameEnd - 1}`, decodedNameEnd)
      return { kind: 'fqdn', flags: b[s]!, name }
    },
    length: o => 1 + encodeName(o.name),
    encode: (o, out, pos) => { checkUint(o.flags, 8, 'Client FQDN flags'); out[pos] = o.flags; return pos + 1 + encodeName(o.name, out, pos + 1) },
  }),
  codec('ntp-server', 'NTP Server', {
    decode: (b, s, e) => {
      const suboptions: NtpServerSuboption[] = []
      let i = s
      while (i < e) {
        if (e - i < 4) fail(56, s, `: suboption header at offset ${i} needs 4 bytes but only ${e - i} remain`, i)
        const code = u16(b, i), len = u16(b, i + 2), from = i + 4, to = i + 4 + len
        if (to > e) fail(56, s, `: suboption ${code} at offset ${i} declares length ${len} but only ${e - from} bytes remain`, i)
        if (code === 1 || code === 2) {
          if (len !== 16) fail(56, s, `: suboption ${code} (${code === 1 ? 'server address' : 'multicast address'}) at offset ${i} has length ${len}, expected 16`, i)
          suboptions.push({ type: code === 1 ? 'server-address' : 'multicast-address', address: view(b, from, to) })
        } else if (code === 3) {
          const name = decodeName(b, from, to, 56, s)
          if (decodedNameEnd !== to) fail(56, s, `: suboption 3 (FQDN) at offset ${i}: ${to - decodedNameEnd} bytes follow the name`, decodedNameEnd)
          suboptions.push({ type: 'fqdn', name })
        } else {
          suboptions.push({ type: 'unknown', code, data: view(b, from, to) })
        }
        i = to
      }
      return { kind: 'ntp-server', suboptions }
    },
    length: o => {
      let n = 0
      for (const sub of o.suboptions) n += ntpSuboptionLength(sub)
      return n
    },
    encode: (o, out, pos) => {
      for (const sub of o.suboptions) {
        const len = ntpSuboptionLength(sub) - 4
        put16(out, pos, sub.type === 'unknown' ? sub.code : ntpSuboptionCodes[sub.type])
        put16(out, pos + 2, len)
        if (sub.type === 'fqdn') encodeName(sub.name, out, pos + 4)
        else if (sub.type === 'unknown') { checkUint(sub.code, 16, 'NTP suboption code'); out.set(sub.data, pos + 4) }
        else { checkAddress(sub.address, `NTP ${sub.type}`); out.set(sub.address, pos + 4) }
        pos += 4 + len
      }
      return pos
    },
  }),
  codec('sol-max-rt', 'SOL_MAX_RT', {
    decode: (b, s, e) => { expectLength(82, s, e, 4); return { kind: 'sol-max-rt', seconds: u32(b, s) } },
    length: () => 4,
    encode: (o, out, pos) => { checkUint(o.seconds, 32, 'SOL_MAX_RT seconds'); put32(out, pos, o.seconds); return pos + 4 },
  }),
  codec('inf-max-rt', 'INF_MAX_RT', {
    decode: (b, s, e) => { expectLength(83, s, e, 4); return { kind: 'inf-max-rt', seconds: u32(b, s) } },
    length: () => 4,
    encode: (o, out, pos) => { checkUint(o.seconds, 32, 'INF_MAX_RT seconds'); put32(out, pos, o.seconds); return pos + 4 },
  }),
]

type AnyCodec = OptionCodec<KnownOptionKind>
const byCode: (AnyCodec | undefined)[] = []
const byKind = new Map<string, AnyCodec>()
for (const c of codecs as unknown as AnyCodec[]) {
  byCode[c.code] = c
  byKind.set(c.kind, c)
}

/** The registry's name for an option code, e.g. 3 -> "IA_NA"; "unknown" for codes we do not decode. */
export function optionName(code: number): string {
  return byCode[code]?.name ?? 'unknown'
}

/** The wire code of an option. */
export function optionCode(o: Option): number {
  return o.kind === 'unknown' ? o.code : OptionCode[o.kind]
}

// ---- option lists ----

// Lists start as a literal holding their first item: most lists of a typical message (an IA's
// options, DNS servers, the domain search list) hold one, and an array that grows from [] by push
// gets a 17-slot store from a runtime call, a measurable share of decoding.

export function decodeOptions(b: Uint8Array, start: number, end: number): Option[] {
  if (start >= end) return []
  const options: Option[] = [decodeOption(b, start, end)]
  for (let i = start + 4 + u16(b, start + 2); i < end; i += 4 + u16(b, i + 2)) options.push(decodeOption(b, i, end))
  return options
}

/** Decodes the option whose header is at b[i], in a list ending at `end`. */
function decodeOption(b: Uint8Array, i: number, end: number): Option {
  if (end - i < 4) throw new DhcpDecodeError(`option header at offset ${i} needs 4 bytes but only ${end - i} remain`, i)
  const code = u16(b, i), len = u16(b, i + 2), from = i + 4, to = from + len
  if (to > end) throw new DhcpDecodeError(`${optionLabel(code)} at offset ${i} declares length ${len} but only ${end - from} bytes remain`, i)
  switch (code) {
    case 1: return decodeClientId(b, from, to)
    case 2: return decodeServerId(b, from, to)
    case 3: return decodeIaNa(b, from, to)
    case 5: return decodeIaAddress(b, from, to)
    case 23: return decodeDnsServers(b, from, to)
    case 24: return decodeDomainList(b, from, to)
    case 25: return decodeIaPd(b, from, to)
    case 26: return decodeIaPrefix(b, from, to)
  }
  const c = byCode[code]
  return c ? c.decode(b, from, to) : { kind: 'unknown', code, data: view(b, from, to) }
}

// Direct calls for the options of every Advertise and Reply, taken from the registry: a call
// through it has too many targets for V8 to inline or call directly, which cost 6-9% of decoding
// a typical Advertise (perf). Other codes go through the registry.
const decoderOf = (kind: KnownOptionKind) => byKind.get(kind)!.decode
const decodeClientId = decoderOf('client-id'), decodeServerId = decoderOf('server-id')
const decodeIaNa = decoderOf('ia-na'), decodeIaAddress = decoderOf('ia-address')
const decodeDnsServers = decoderOf('dns-servers'), decodeDomainList = decoderOf('domain-list')
const decodeIaPd = decoderOf('ia-pd'), decodeIaPrefix = decoderOf('ia-prefix')

function bodyLength(o: Option): number {
  if (o.kind === 'unknown') return o.data.length
  const c = byKind.get(o.kind)
  if (!c) throw new DhcpEncodeError(`unknown option kind '${String(o.kind)}'; use {"kind":"unknown","code":N,"data":"HEX"} for other codes`)
  return c.length(o as never)
}

export function optionsLength(options: Option[]): number {
  let n = 0
  for (const o of options) {
    const len = bodyLength(o)
    if (len > 0xffff) throw new DhcpEncodeError(`option ${optionCode(o)} (${optionName(optionCode(o))}) would be ${len} bytes long, the limit is 65535`)
    n += 4 + len
  }
  return n
}

export function encodeOptions(options: Option[], out: Uint8Array, pos: number): number {
  for (const o of options) {
    const bodyStart = pos + 4
    let end: number
    if (o.kind === 'unknown') {
      checkUint(o.code, 16, 'unknown option code'); checkBytes(o.data, `option ${o.code} data`)
      out.set(o.data, bodyStart)
      end = bodyStart + o.data.length
      put16(out, pos, o.code)
    } else {
      const c = byKind.get(o.kind)!
      end = c.encode(o as never, out, bodyStart)
      put16(out, pos, c.code)
    }
    put16(out, pos + 2, end - bodyStart)
    pos = end
  }
  return pos
}
