// Messages: RFC 8415 section 8 (client/server: msg-type, 24-bit transaction-id, options) and
// section 9 (relay: msg-type, hop-count, link-address, peer-address, options).
import { put32, u32, view } from './bytes.js'
import { MessageType, messageTypeByCode, type MessageTypeName } from './constants.js'
import { DhcpDecodeError, DhcpEncodeError } from './errors.js'
import type { Message } from './model.js'
import { decodeOptions, encodeOptions, optionsLength } from './options.js'

const relayHeaderLength = 34
/** msg-type -> name, as an array: a Map lookup shows in the decode profile. */
const messageTypeNames: (MessageTypeName | undefined)[] = Array.from({ length: 256 }, (_, code) => messageTypeByCode.get(code))

/** Decodes one DHCPv6 message (a UDP payload). Throws DhcpDecodeError when it is malformed. */
export function decodeMessage(bytes: Uint8Array): Message {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeMessage takes a Uint8Array or Buffer')
  return decodeMessageAt(bytes, 0, bytes.length)
}

/** Decodes the message in b[start, end) (also used for the Relay Message option). */
export function decodeMessageAt(b: Uint8Array, start: number, end: number): Message {
  const length = end - start
  if (length < 1) throw new DhcpDecodeError(`message at offset ${start} is empty: a DHCPv6 message needs at least 4 bytes`, start)
  const msgType = b[start]!
  const type = messageTypeNames[msgType]
  if (type === undefined) return { type: 'unknown', msgType, body: view(b, start + 1, end) }
  if (type === 'relay-forw' || type === 'relay-repl') {
    if (length < relayHeaderLength) {
      throw new DhcpDecodeError(`${type} message at offset ${start} is ${length} bytes long, its header alone needs ${relayHeaderLength}`, start)
    }
    return {
      type,
      hopCount: b[start + 1]!,
      linkAddress: view(b, start + 2, start + 18),
      peerAddress: view(b, start + 18, start + 34),
      options: decodeOptions(b, start + relayHeaderLength, end),
    }
  }
  if (length < 4) throw new DhcpDecodeError(`${type} message at offset ${start} is ${length} bytes long, its header alone needs 4`, start)
  return { type, transactionId: u32(b, start) & 0xffffff, options: decodeOptions(b, start + 4, end) }
}

/** Bytes encodeMessage will produce for `msg`. */
export function encodedLength(msg: Message): number {
  return messageLength(msg)
}

export function messageLength(msg: Message): number {
  switch (msg.type) {
    case 'unknown': return 1 + msg.body.length
    case 'relay-forw':
    case 'relay-repl': return relayHeaderLength + optionsLength(msg.options)
    default: return 4 + optionsLength(msg.options)
  }
}

// Output buffers are carved from a shared zero-filled slab, as Buffer.allocUnsafe does from its pool
// (but never reused, so never dirty): a new Uint8Array of more than 64 bytes gets its own off-heap
// backing store, which cost more than the whole encoding of a typical message.
const slabSize = 8192
let slab = new Uint8Array(slabSize)
let slabUsed = 0

function outputBuffer(length: number): Uint8Array {
  if (length > slabSize >>> 2) return new Uint8Array(length)
  if (slabUsed + length > slabSize) {
    slab = new Uint8Array(slabSize)
    slabUsed = 0
  }
  const out = slab.subarray(slabUsed, slabUsed + length)
  slabUsed += (length + 7) & ~7 // keep each buffer 8-byte aligned
  return out
}

/**
 * Encodes a message. Throws DhcpEncodeError when a field cannot be put on the wire. The result may
 * be a view into a shared slab (its byteOffset need not be 0): do not transfer its `.buffer`.
 */
export function encodeMessage(msg: Message): Uint8Array {
  const out = outputBuffer(messageLength(msg))
  const end = encodeMessageAt(msg, out, 0)
  if (end !== out.length) throw new DhcpEncodeError(`internal: encoded ${end} bytes, expected ${out.length}`)
  return out
}

export function encodeMessageAt(msg: Message, out: Uint8Array, pos: number): number {
  switch (msg.type) {
    case 'unknown':
      if (!Number.isInteger(msg.msgType) || msg.msgType < 0 || msg.msgType > 255 || messageTypeByCode.has(msg.msgType)) {
        throw new DhcpEncodeError(`unknown message msgType must be an unassigned code from 0 to 255 (not 1-13), got ${msg.msgType}`)
      }
      out[pos] = msg.msgType
      out.set(msg.body, pos + 1)
      return pos + 1 + msg.body.length
    case 'relay-forw':
    case 'relay-repl':
      if (!Number.isInteger(msg.hopCount) || msg.hopCount < 0 || msg.hopCount > 255) {
        throw new DhcpEncodeError(`${msg.type} hopCount must be 0-255, got ${msg.hopCount}`)
      }
      for (const [what, a] of [['linkAddress', msg.linkAddress], ['peerAddress', msg.peerAddress]] as const) {
        if (!(a instanceof Uint8Array) || a.length !== 16) throw new DhcpEncodeError(`${msg.type} ${what} must be a 16-byte IPv6 address`)
      }
      out[pos] = MessageType[msg.type]
      out[pos + 1] = msg.hopCount
      out.set(msg.linkAddress, pos + 2)
      out.set(msg.peerAddress, pos + 18)
      return encodeOptions(msg.options, out, pos + relayHeaderLength)
    default: {
      const code = MessageType[msg.type]
      if (code === undefined) throw new DhcpEncodeError(`unknown message type '${String(msg.type)}'`)
      if (!Number.isInteger(msg.transactionId) || msg.transactionId < 0 || msg.transactionId > 0xffffff) {
        throw new DhcpEncodeError(`transactionId must be a 24-bit integer (0 to 0xffffff), got ${msg.transactionId}`)
      }
      put32(out, pos, msg.transactionId)
      out[pos] = code
      return encodeOptions(msg.options, out, pos + 4)
    }
  }
}
