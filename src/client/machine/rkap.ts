// Reconfigure Key Authentication Protocol (RFC 8415 section 20.4): the server hands the client a
// 128-bit key in a Reply (Authentication option, protocol 3, algorithm 1 HMAC-MD5, RDM 0, type 1),
// and signs each Reconfigure with HMAC-MD5 over the whole message, computed with the 16-byte
// HMAC-MD5 field of its Authentication option set to zero (type 2). The check works on the bytes
// as received, so no re-encoding can change what was signed.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { AuthAlgorithm, AuthProtocol, OptionCode, ReplayDetectionMethod, RkapType } from '../../dhcpv6/constants.js'
import type { AuthenticationOption } from '../../dhcpv6/model.js'

const HMAC_LENGTH = 16
/** protocol, algorithm, RDM (1 each), replay detection (8), RKAP type (1). */
const RKAP_HEADER = 12
const RKAP_OPTION_LENGTH = RKAP_HEADER + HMAC_LENGTH

/** The reconfigure key a Reply carries, if its Authentication option is a well-formed RKAP key. */
export function reconfigureKeyFrom(auth: AuthenticationOption | undefined): { key: Uint8Array; replayDetection: bigint } | undefined {
  if (!auth || !isRkap(auth) || auth.info.format !== 'rkap' || auth.info.type !== RkapType.reconfigureKey) return undefined
  return { key: Uint8Array.from(auth.info.value), replayDetection: auth.replayDetection }
}

/** Where a reconfigure key is kept: the lease, or the stateless configuration. */
export interface ReconfigureKeyHolder {
  reconfigureKey?: Uint8Array
  lastReplayDetection?: bigint
}

/**
 * Takes the key a Reply carries. The replay baseline only rises while the key stays the same
 * (RFC 8415 section 20.3: a Reply with an older counter must not reopen the door to a captured
 * Reconfigure); a new key starts from its own Reply's counter, since nothing signed with the old
 * key verifies any more.
 */
export function takeReconfigureKey(holder: ReconfigureKeyHolder, key: { key: Uint8Array; replayDetection: bigint }): void {
  const sameKey = holder.reconfigureKey !== undefined && Buffer.compare(holder.reconfigureKey, key.key) === 0
  if (!sameKey || holder.lastReplayDetection === undefined || key.replayDetection > holder.lastReplayDetection) {
    holder.lastReplayDetection = key.replayDetection
  }
  holder.reconfigureKey = key.key
}

export function isRkap(auth: AuthenticationOption): boolean {
  return auth.protocol === AuthProtocol.reconfigureKey && auth.algorithm === AuthAlgorithm.hmacMd5 && auth.rdm === ReplayDetectionMethod.monotonicCounter
}

/**
 * Offset of the 16-byte HMAC-MD5 field of the (first, top-level) RKAP Authentication option of a
 * client/server message, or undefined when there is none.
 */
export function hmacFieldOffset(message: Uint8Array): number | undefined {
  let pos = 4
  while (pos + 4 <= message.length) {
    const code = (message[pos]! << 8) | message[pos + 1]!
    const length = (message[pos + 2]! << 8) | message[pos + 3]!
    const body = pos + 4
    if (body + length > message.length) return undefined
    if (code === OptionCode.authentication && length === RKAP_OPTION_LENGTH && message[body] === AuthProtocol.reconfigureKey) {
      return body + RKAP_HEADER
    }
    pos = body + length
  }
  return undefined
}

/** HMAC-MD5 of the message with its HMAC field zeroed (what the server signs). */
export function reconfigureDigest(message: Uint8Array, key: Uint8Array): Uint8Array | undefined {
  const at = hmacFieldOffset(message)
  if (at === undefined) return undefined
  const copy = Uint8Array.from(message)
  copy.fill(0, at, at + HMAC_LENGTH)
  return Uint8Array.from(createHmac('md5', key).update(copy).digest())
}

/** True when the message's RKAP HMAC-MD5 field holds the right digest for `key`. */
export function verifyReconfigure(message: Uint8Array, key: Uint8Array): boolean {
  const at = hmacFieldOffset(message)
  const expected = reconfigureDigest(message, key)
  if (at === undefined || expected === undefined) return false
  return timingSafeEqual(message.subarray(at, at + HMAC_LENGTH), expected)
}

/** Signs an encoded Reconfigure in place (for tests and test servers): fills its HMAC field. */
export function signReconfigure(message: Uint8Array, key: Uint8Array): Uint8Array {
  const at = hmacFieldOffset(message)
  const digest = reconfigureDigest(message, key)
  if (at === undefined || digest === undefined) throw new Error('signReconfigure: the message has no RKAP Authentication option')
  message.set(digest, at)
  return message
}
