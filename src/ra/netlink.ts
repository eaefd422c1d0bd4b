// Netlink framing shared by the ra6mon and rtnetlink sources: messages, attributes, acks.
// Integers in netlink are in host byte order; addresses are in network order.
import { endianness } from 'node:os'
import { NETLINK } from './abi.js'

const littleEndian = endianness() === 'LE'

/** A netlink message or attribute that does not fit its declared length. Dropped and counted. */
export class MalformedMessageError extends Error {
  override name = 'MalformedMessageError'
}

export function readU16(buf: Buffer, offset: number): number {
  return littleEndian ? buf.readUInt16LE(offset) : buf.readUInt16BE(offset)
}
export function readU32(buf: Buffer, offset: number): number {
  return littleEndian ? buf.readUInt32LE(offset) : buf.readUInt32BE(offset)
}
export function readI32(buf: Buffer, offset: number): number {
  return littleEndian ? buf.readInt32LE(offset) : buf.readInt32BE(offset)
}
export function readU64(buf: Buffer, offset: number): bigint {
  return littleEndian ? buf.readBigUInt64LE(offset) : buf.readBigUInt64BE(offset)
}
export function writeU16(buf: Buffer, value: number, offset: number): void {
  if (littleEndian) buf.writeUInt16LE(value, offset)
  else buf.writeUInt16BE(value, offset)
}
export function writeU32(buf: Buffer, value: number, offset: number): void {
  if (littleEndian) buf.writeUInt32LE(value, offset)
  else buf.writeUInt32BE(value, offset)
}
export function writeU64(buf: Buffer, value: bigint, offset: number): void {
  if (littleEndian) buf.writeBigUInt64LE(value, offset)
  else buf.writeBigUInt64BE(value, offset)
}

export const align4 = (n: number): number => (n + 3) & ~3

export interface NetlinkMessage {
  type: number
  flags: number
  seq: number
  pid: number
  /** Everything after the 16-byte header, within nlmsg_len. */
  payload: Buffer
}

/**
 * Splits one datagram into its messages. A message whose length is impossible ends the datagram
 * (nothing after it can be framed); the result says so, and the caller counts it as malformed.
 */
export function splitMessages(datagram: Buffer): { messages: NetlinkMessage[]; malformed: number } {
  const messages: NetlinkMessage[] = []
  let offset = 0
  while (offset + NETLINK.NLMSG_HDRLEN <= datagram.length) {
    const length = readU32(datagram, offset)
    if (length < NETLINK.NLMSG_HDRLEN || offset + length > datagram.length) return { messages, malformed: 1 }
    messages.push({
      type: readU16(datagram, offset + 4),
      flags: readU16(datagram, offset + 6),
      seq: readU32(datagram, offset + 8),
      pid: readU32(datagram, offset + 12),
      payload: datagram.subarray(offset + NETLINK.NLMSG_HDRLEN, offset + length),
    })
    offset += align4(length)
  }
  // Trailing bytes shorter than a header (other than alignment padding) are a broken datagram.
  return { messages, malformed: offset < datagram.length ? 1 : 0 }
}

export interface Attribute {
  type: number
  value: Buffer
}

/** Parses a run of attributes; throws MalformedMessageError if one overruns the buffer. */
export function parseAttributes(buf: Buffer): Attribute[] {
  const attributes: Attribute[] = []
  let offset = 0
  while (offset + NETLINK.NLA_HDRLEN <= buf.length) {
    const length = readU16(buf, offset)
    if (length < NETLINK.NLA_HDRLEN || offset + length > buf.length) {
      throw new MalformedMessageError(`attribute at offset ${offset} has length ${length}, ${buf.length - offset} bytes left`)
    }
    const type = readU16(buf, offset + 2) & ~(NETLINK.NLA_F_NESTED | NETLINK.NLA_F_NET_BYTEORDER)
    attributes.push({ type, value: buf.subarray(offset + NETLINK.NLA_HDRLEN, offset + length) })
    offset += align4(length)
  }
  if (offset < buf.length) throw new MalformedMessageError(`${buf.length - offset} stray bytes after the attributes`)
  return attributes
}

/** Attributes by type; the last one of a type wins, as in the kernel's nla_parse. */
export function attributeMap(buf: Buffer): Map<number, Buffer> {
  return new Map(parseAttributes(buf).map(a => [a.type, a.value]))
}

export function expectLength(name: string, value: Buffer | undefined, length: number): Buffer | undefined {
  if (value === undefined) return undefined
  if (value.length !== length) throw new MalformedMessageError(`${name} is ${value.length} bytes, expected ${length}`)
  return value
}

/** A NUL-terminated netlink string attribute. */
export function readString(value: Buffer): string {
  const end = value.indexOf(0)
  return value.subarray(0, end < 0 ? value.length : end).toString('utf8')
}

export function encodeAttribute(type: number, value: Buffer): Buffer {
  const length = NETLINK.NLA_HDRLEN + value.length
  const out = Buffer.alloc(align4(length))
  writeU16(out, length, 0)
  writeU16(out, type, 2)
  value.copy(out, NETLINK.NLA_HDRLEN)
  return out
}

export function u32Value(value: number): Buffer {
  const out = Buffer.alloc(4)
  writeU32(out, value, 0)
  return out
}

export function encodeMessage(type: number, flags: number, seq: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const length = NETLINK.NLMSG_HDRLEN + payload.length
  const out = Buffer.alloc(align4(length))
  writeU32(out, length, 0)
  writeU16(out, type, 4)
  writeU16(out, flags, 6)
  writeU32(out, seq, 8)
  writeU32(out, 0, 12) // the kernel fills in our port id
  payload.copy(out, NETLINK.NLMSG_HDRLEN)
  return out
}

export interface Ack {
  /** 0, or a negative errno. */
  error: number
  /** Sequence number of the request this answers. */
  seq: number
  /** The kernel's own explanation (extended ack), when it gave one. */
  kernelMessage?: string
}

/** Decodes NLMSG_ERROR (an ack when error is 0). */
export function decodeAck(message: NetlinkMessage): Ack {
  const p = message.payload
  if (p.length < 4 + NETLINK.NLMSG_HDRLEN) throw new MalformedMessageError(`NLMSG_ERROR payload is ${p.length} bytes`)
  const error = readI32(p, 0)
  const original = p.subarray(4, 4 + NETLINK.NLMSG_HDRLEN)
  const seq = readU32(original, 8)
  const ack: Ack = { error, seq }
  if (message.flags & NETLINK.NLM_F_ACK_TLVS) {
    // With NLM_F_CAPPED only the request's header was echoed; otherwise all of it.
    const echoed = message.flags & NETLINK.NLM_F_CAPPED ? NETLINK.NLMSG_HDRLEN : readU32(original, 0)
    const tlvStart = 4 + align4(echoed)
    if (tlvStart <= p.length) {
      try {
        const text = attributeMap(p.subarray(tlvStart)).get(NETLINK.NLMSGERR_ATTR_MSG)
        if (text !== undefined) ack.kernelMessage = readString(text)
      } catch {
        // An unreadable explanation does not change the error itself.
      }
    }
  }
  return ack
}
