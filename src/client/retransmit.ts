// Retransmission of one client message exchange, exactly as RFC 8415 section 15 specifies, as a
// small pure object: the state machine asks it when to send, sends, arms one timer at the
// returned deadline, and asks it again when that timer fires. All times are milliseconds on the
// injected Clock's scale; randomness comes from the injected Random.
import type { Random } from './clock.js'
import type { Profile } from './profiles.js'

/** Client messages that are retransmitted (RFC 8415 section 18.2). */
export type RetransmittedMessage =
  | 'Solicit'
  | 'Request'
  | 'Confirm'
  | 'Renew'
  | 'Rebind'
  | 'Release'
  | 'Decline'
  | 'Information-request'

export interface RetransmissionParameters {
  /** Initial retransmission time. */
  readonly irtMs: number
  /** Maximum retransmission time; 0 means no cap. */
  readonly mrtMs: number
  /** Maximum transmissions; 0 means no limit. */
  readonly mrc: number
  /** Maximum duration since the first transmission; 0 means no limit. */
  readonly mrdMs: number
  /** Upper bound of the random delay before the first transmission; 0 sends at once. */
  readonly maxDelayMs: number
  /** Solicit only (RFC 8415 section 18.2.1): the first RT is strictly greater than IRT. */
  readonly firstRtAboveIrt: boolean
}

export interface ParameterOptions {
  /**
   * MRD for Renew (time left until the earliest T2, section 18.2.4) and Rebind (time left until
   * the valid lifetimes of all leases in the message expire, section 18.2.5). Required for those
   * two, ignored for the others.
   */
  mrdMs?: number
  /** Overrides the initial delay bound (e.g. 0 for the latency benchmark); profile's by default. */
  maxDelayMs?: number
}

const S = 1000

/**
 * IRT/MRT/MRC/MRD and initial delay for each client message, from RFC 8415 section 18.2.x (the
 * same assignments as RFC 3315 section 18.1.x): the one place that maps messages to constants.
 */
export function messageParameters(p: Profile, message: RetransmittedMessage, options: ParameterOptions = {}): RetransmissionParameters {
  const base = ((): RetransmissionParameters => {
    switch (message) {
      case 'Solicit': // 18.2.1
        return { irtMs: p.SOL_TIMEOUT * S, mrtMs: p.SOL_MAX_RT * S, mrc: 0, mrdMs: 0, maxDelayMs: p.SOL_MAX_DELAY * S, firstRtAboveIrt: true }
      case 'Request': // 18.2.2
        return { irtMs: p.REQ_TIMEOUT * S, mrtMs: p.REQ_MAX_RT * S, mrc: p.REQ_MAX_RC, mrdMs: 0, maxDelayMs: 0, firstRtAboveIrt: false }
      case 'Confirm': // 18.2.3
        return { irtMs: p.CNF_TIMEOUT * S, mrtMs: p.CNF_MAX_RT * S, mrc: 0, mrdMs: p.CNF_MAX_RD * S, maxDelayMs: p.CNF_MAX_DELAY * S, firstRtAboveIrt: false }
      case 'Renew': // 18.2.4
        return { irtMs: p.REN_TIMEOUT * S, mrtMs: p.REN_MAX_RT * S, mrc: 0, mrdMs: requiredMrd(message, options), maxDelayMs: 0, firstRtAboveIrt: false }
      case 'Rebind': // 18.2.5
        return { irtMs: p.REB_TIMEOUT * S, mrtMs: p.REB_MAX_RT * S, mrc: 0, mrdMs: requiredMrd(message, options), maxDelayMs: 0, firstRtAboveIrt: false }
      case 'Information-request': // 18.2.6
        return { irtMs: p.INF_TIMEOUT * S, mrtMs: p.INF_MAX_RT * S, mrc: 0, mrdMs: 0, maxDelayMs: p.INF_MAX_DELAY * S, firstRtAboveIrt: false }
      case 'Release': // 18.2.7
        return { irtMs: p.REL_TIMEOUT * S, mrtMs: 0, mrc: p.REL_MAX_RC, mrdMs: 0, maxDelayMs: 0, firstRtAboveIrt: false }
      case 'Decline': // 18.2.8
        return { irtMs: p.DEC_TIMEOUT * S, mrtMs: 0, mrc: p.DEC_MAX_RC, mrdMs: 0, maxDelayMs: 0, firstRtAboveIrt: false }
    }
  })()
  if (options.maxDelayMs === undefined || base.maxDelayMs === 0) return base
  // Only messages the RFC delays (Solicit, Confirm, Information-request) take the override.
  if (!(options.maxDelayMs >= 0)) throw new RangeError(`maxDelayMs must be >= 0, got ${options.maxDelayMs}`)
  return { ...base, maxDelayMs: options.maxDelayMs }
}

function requiredMrd(message: RetransmittedMessage, options: ParameterOptions): number {
  const mrd = options.mrdMs
  // A Renew or Rebind without its deadline would retransmit forever past T2 or past expiry.
  if (mrd === undefined || !(mrd > 0)) throw new RangeError(`${message} needs mrdMs > 0 (time left until T2 for Renew, until the leases expire for Rebind), got ${mrd}`)
  return mrd
}

/** Largest Elapsed Time value; it also stands for every longer time (RFC 8415 section 21.9). */
export const ELAPSED_TIME_MAX = 0xffff

export interface Transmission {
  /** 1 for the first transmission, 2 for the first retransmission, ... */
  readonly attempt: number
  readonly retransmission: boolean
  /** The value for the Elapsed Time option of this transmission. */
  readonly elapsedCentiseconds: number
  /** The retransmission timeout chosen for this transmission (RT). */
  readonly rtMs: number
  /** When to call `timeout()`: now + RT, or earlier if MRD ends first. */
  readonly timeoutAt: number
}

export type TimeoutDecision = { action: 'retransmit' } | { action: 'give-up'; reason: 'MRC' | 'MRD' }

export class Retransmission {
  private params: RetransmissionParameters
  private startedAt: number | undefined
  private firstSentAt: number | undefined
  private lastRtMs = 0
  private transmissions = 0

  constructor(params: RetransmissionParameters, private readonly random: Random) {
    for (const key of ['irtMs', 'mrtMs', 'mrc', 'mrdMs', 'maxDelayMs'] as const) {
      if (!(params[key] >= 0)) throw new RangeError(`retransmission parameter ${key} must be >= 0, got ${params[key]}`)
    }
    if (!(params.irtMs > 0)) throw new RangeError(`retransmission parameter irtMs must be > 0, got ${params.irtMs}`)
    this.params = { ...params }
  }

  get parameters(): RetransmissionParameters {
    return this.params
  }

  /** Number of transmissions so far. */
  get count(): number {
    return this.transmissions
  }

  /** Time of the first transmission, once it happened. */
  get firstTransmissionAt(): number | undefined {
    return this.firstSentAt
  }

  /** Begins the exchange; returns when to send the first message (now plus a random delay in 0..maxDelay). */
  start(now: number): number {
    if (this.startedAt !== undefined) throw new Error('Retransmission.start called twice: use a new object per exchange')
    this.startedAt = now
    return now + this.random.next() * this.params.maxDelayMs
  }

  /**
   * Records a transmission made at `now` (the first or a retransmission) and chooses its RT:
   * first RT = IRT + RAND*IRT, later RT = 2*RTprev + RAND*RTprev, and RT = MRT + RAND*MRT when
   * that exceeds MRT (RFC 8415 section 15).
   */
  transmit(now: number): Transmission {
    if (this.startedAt === undefined) this.startedAt = now
    const { irtMs, mrtMs, mrdMs, firstRtAboveIrt } = this.params
    const first = this.transmissions === 0
    if (first) this.firstSentAt = now
    const rand = first && firstRtAboveIrt ? this.positiveRand() : this.rand()
    let rt = first ? irtMs + rand * irtMs : 2 * this.lastRtMs + rand * this.lastRtMs
    if (mrtMs > 0 && rt > mrtMs) rt = mrtMs + rand * mrtMs
    this.lastRtMs = rt
    this.transmissions++
    const mrdEnd = mrdMs > 0 ? (this.firstSentAt as number) + mrdMs : Infinity
    return {
      attempt: this.transmissions,
      retransmission: !first,
      elapsedCentiseconds: this.elapsedCentiseconds(now),
      rtMs: rt,
      timeoutAt: Math.min(now + rt, mrdEnd),
    }
  }

  /**
   * Called when the timer armed for `timeoutAt` fires without a satisfying reply. The exchange
   * fails once MRC transmissions were made, or once MRD has passed since the first transmission;
   * otherwise the caller retransmits now (calling `transmit(now)` again).
   */
  timeout(now: number): TimeoutDecision {
    if (this.transmissions === 0) throw new Error('Retransmission.timeout before the first transmit')
    const { mrc, mrdMs } = this.params
    if (mrc > 0 && this.transmissions >= mrc) return { action: 'give-up', reason: 'MRC' }
    if (mrdMs > 0 && now - (this.firstSentAt as number) >= mrdMs) return { action: 'give-up', reason: 'MRD' }
    return { action: 'retransmit' }
  }

  /**
   * Replaces MRT during the exchange, e.g. after a SOL_MAX_RT option in an Advertise (RFC 8415
   * section 18.2.9); later RTs use it.
   */
  setMaxRetransmissionTime(mrtMs: number): void {
    if (!(mrtMs >= 0)) throw new RangeError(`MRT must be >= 0, got ${mrtMs}`)
    this.params = { ...this.params, mrtMs }
  }

  /**
   * Elapsed Time for a message sent at `now`: hundredths of a second since the first transmission
   * of this exchange, 0 for the first one, capped at 0xFFFF (RFC 8415 section 21.9).
   */
  elapsedCentiseconds(now: number): number {
    if (this.firstSentAt === undefined || now <= this.firstSentAt) return 0
    return Math.min(ELAPSED_TIME_MAX, Math.floor((now - this.firstSentAt) / 10))
  }

  /** RAND: uniform in [-0.1, +0.1). */
  private rand(): number {
    return -0.1 + 0.2 * this.random.next()
  }

  /**
   * RAND in (0, +0.1] for Solicit's first RT, which must be strictly greater than IRT. Quantised
   * to 2^20 steps so that even the smallest step still makes IRT + RAND*IRT > IRT in floating
   * point (0.1 * (1 - u) alone can round back to exactly IRT).
   */
  private positiveRand(): number {
    const steps = 2 ** 20
    return (0.1 * (Math.floor(this.random.next() * steps) + 1)) / steps
  }
}
