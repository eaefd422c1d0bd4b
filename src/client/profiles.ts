// The DHCPv6 client's protocol constants, one table per profile, in the RFCs' own units (seconds
// or counts). `rfc8415` is the default; `rfc3315` holds the values Ready Logo test suites check
// (they were written against RFC 3315).
import { UsageError } from '../cli/usage-error.js'

export type ProfileName = 'rfc8415' | 'rfc3315'
export const PROFILE_NAMES: readonly ProfileName[] = ['rfc8415', 'rfc3315']

export interface Profile {
  readonly name: ProfileName
  /** Max delay of first Solicit (s). */
  readonly SOL_MAX_DELAY: number
  /** Initial Solicit timeout (s). */
  readonly SOL_TIMEOUT: number
  /** Max Solicit timeout value (s). */
  readonly SOL_MAX_RT: number
  /** Initial Request timeout (s). */
  readonly REQ_TIMEOUT: number
  /** Max Request timeout value (s). */
  readonly REQ_MAX_RT: number
  /** Max Request retry attempts (transmissions). */
  readonly REQ_MAX_RC: number
  /** Max delay of first Confirm (s). */
  readonly CNF_MAX_DELAY: number
  /** Initial Confirm timeout (s). */
  readonly CNF_TIMEOUT: number
  /** Max Confirm timeout (s). */
  readonly CNF_MAX_RT: number
  /** Max Confirm duration (s). */
  readonly CNF_MAX_RD: number
  /** Initial Renew timeout (s). */
  readonly REN_TIMEOUT: number
  /** Max Renew timeout value (s). */
  readonly REN_MAX_RT: number
  /** Initial Rebind timeout (s). */
  readonly REB_TIMEOUT: number
  /** Max Rebind timeout value (s). */
  readonly REB_MAX_RT: number
  /** Max delay of first Information-request (s). */
  readonly INF_MAX_DELAY: number
  /** Initial Information-request timeout (s). */
  readonly INF_TIMEOUT: number
  /** Max Information-request timeout value (s). */
  readonly INF_MAX_RT: number
  /** Initial Release timeout (s). */
  readonly REL_TIMEOUT: number
  /** Max Release attempts. */
  readonly REL_MAX_RC: number
  /** Initial Decline timeout (s). */
  readonly DEC_TIMEOUT: number
  /** Max Decline attempts. */
  readonly DEC_MAX_RC: number
  /** Initial Reconfigure timeout (s; server side, listed for completeness). */
  readonly REC_TIMEOUT: number
  /** Max Reconfigure attempts (server side). */
  readonly REC_MAX_RC: number
  /** Max hop count in a Relay-forward message. */
  readonly HOP_COUNT_LIMIT: number
  /** Default Information Refresh Time (s). */
  readonly IRT_DEFAULT: number
  /** Minimum Information Refresh Time (s). */
  readonly IRT_MINIMUM: number
  /** Max required time to wait for a response (s); RFC 8415 only, undefined in rfc3315. */
  readonly MAX_WAIT_TIME: number | undefined
}

/** RFC 8415 section 7.6 ("Transmission and Retransmission Parameters"). */
const RFC8415: Profile = {
  name: 'rfc8415',
  SOL_MAX_DELAY: 1,
  SOL_TIMEOUT: 1,
  SOL_MAX_RT: 3600,
  REQ_TIMEOUT: 1,
  REQ_MAX_RT: 30,
  REQ_MAX_RC: 10,
  CNF_MAX_DELAY: 1,
  CNF_TIMEOUT: 1,
  CNF_MAX_RT: 4,
  CNF_MAX_RD: 10,
  REN_TIMEOUT: 10,
  REN_MAX_RT: 600,
  REB_TIMEOUT: 10,
  REB_MAX_RT: 600,
  INF_MAX_DELAY: 1,
  INF_TIMEOUT: 1,
  INF_MAX_RT: 3600,
  REL_TIMEOUT: 1,
  REL_MAX_RC: 4,
  DEC_TIMEOUT: 1,
  DEC_MAX_RC: 4,
  REC_TIMEOUT: 2,
  REC_MAX_RC: 8,
  HOP_COUNT_LIMIT: 8,
  IRT_DEFAULT: 86400,
  IRT_MINIMUM: 600,
  MAX_WAIT_TIME: 60,
}

/**
 * RFC 3315 section 5.5. It differs from RFC 8415 in SOL_MAX_RT and INF_MAX_RT (120 s, raised to
 * 3600 s by RFC 7083), REL_MAX_RC and DEC_MAX_RC (5) and HOP_COUNT_LIMIT (32). IRT_DEFAULT and
 * IRT_MINIMUM come from RFC 4242 section 3 (the Information Refresh Time option); RFC 3315 has no
 * MAX_WAIT_TIME.
 */
const RFC3315: Profile = {
  ...RFC8415,
  name: 'rfc3315',
  SOL_MAX_RT: 120,
  INF_MAX_RT: 120,
  REL_MAX_RC: 5,
  DEC_MAX_RC: 5,
  HOP_COUNT_LIMIT: 32,
  MAX_WAIT_TIME: undefined,
}

const PROFILES: Readonly<Record<ProfileName, Profile>> = { rfc8415: RFC8415, rfc3315: RFC3315 }

export function profile(name: ProfileName = 'rfc8415'): Profile {
  return PROFILES[name]
}

/** Parses a `--profile` value or config entry, naming the choices on error. */
export function parseProfileName(value: string): ProfileName {
  if ((PROFILE_NAMES as readonly string[]).includes(value)) return value as ProfileName
  throw new UsageError(`unknown profile '${value}': use --profile rfc8415 (the default) or --profile rfc3315 (Ready Logo)`)
}

/**
 * Bounds for the SOL_MAX_RT (82) and INF_MAX_RT (83) options a server may send:
 * RFC 8415 sections 21.24 and 21.25, 60 <= value <= 86400 seconds.
 */
export const SERVER_MAX_RT_BOUNDS = { min: 60, max: 86400 } as const

export type ServerMaxRtOption = 'SOL_MAX_RT' | 'INF_MAX_RT'

export type ServerMaxRtResult =
  | { accepted: true; profile: Profile }
  | { accepted: false; profile: Profile; reason: string }

/**
 * Applies a SOL_MAX_RT or INF_MAX_RT option received from a server. A value outside the bounds
 * is ignored, as RFC 8415 sections 18.2.9/18.2.10 and 21.24/21.25 require ("MUST ignore"); the
 * unchanged profile is returned with a reason to log. The input profile is never modified.
 */
export function applyServerMaxRt(base: Profile, option: ServerMaxRtOption, seconds: number): ServerMaxRtResult {
  const { min, max } = SERVER_MAX_RT_BOUNDS
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    return { accepted: false, profile: base, reason: `${option} ${seconds} s from server ignored: outside ${min}..${max} s (RFC 8415 section ${option === 'SOL_MAX_RT' ? '21.24' : '21.25'})` }
  }
  return { accepted: true, profile: { ...base, [option]: seconds } }
}
