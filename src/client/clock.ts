// Time and randomness are injected everywhere in the client, so the state machine and its timers
// run unchanged in real time (the daemon) and in virtual time (the unit tests).

/** An opaque handle returned by Clock.setTimer. */
export interface TimerHandle {
  readonly id: number
}

export interface Clock {
  /** Milliseconds on a monotonic scale (never jumps with the wall clock). */
  now(): number
  /** Runs `callback` once, `delayMs` from now (negative delays count as 0). */
  setTimer(delayMs: number, callback: () => void): TimerHandle
  /** Cancels a timer; harmless if it has fired or was cancelled already. */
  clearTimer(handle: TimerHandle): void
}

/** Uniform samples in [0, 1), like Math.random. */
export interface Random {
  next(): number
}

/** The real clock: performance.now() and the event loop's timers. */
export class RealClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>()
  private lastId = 0

  now(): number {
    return performance.now()
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const id = ++this.lastId
    // Node clamps delays above 2^31-1 ms (24.8 days) to 1 ms: chain shorter timers instead, since
    // DHCPv6 lifetimes and T1/T2 may be far longer.
    const maxDelay = 0x7fffffff
    const deadline = this.now() + Math.max(0, delayMs)
    const arm = (): void => {
      const remaining = deadline - this.now()
      const timer = setTimeout(() => {
        if (deadline - this.now() > 1) return arm()
        this.timers.delete(id)
        callback()
      }, Math.min(Math.max(0, remaining), maxDelay))
      this.timers.set(id, timer)
    }
    arm()
    return { id }
  }

  clearTimer(handle: TimerHandle): void {
    const timer = this.timers.get(handle.id)
    if (timer !== undefined) clearTimeout(timer)
    this.timers.delete(handle.id)
  }
}

/** Math.random for the daemon (RFC 8415 section 15 asks for no more than a uniform RAND). */
export class MathRandom implements Random {
  next(): number {
    return Math.random()
  }
}

interface VirtualTimer {
  id: number
  at: number
  callback: () => void
}

/**
 * A clock for tests: time moves only when `advance` is called. Due timers fire in order of their
 * deadline (ties in order of creation), with `now()` equal to their deadline while they run, so
 * a timer armed from inside a callback fires in the same `advance` if it falls inside the span.
 */
export class VirtualClock implements Clock {
  private current: number
  private lastId = 0
  private pending: VirtualTimer[] = []

  constructor(startMs = 0) {
    this.current = startMs
  }

  now(): number {
    return this.current
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer = { id: ++this.lastId, at: this.current + Math.max(0, delayMs), callback }
    this.pending.push(timer)
    return { id: timer.id }
  }

  clearTimer(handle: TimerHandle): void {
    this.pending = this.pending.filter(timer => timer.id !== handle.id)
  }

  /** Number of armed timers. */
  get pendingCount(): number {
    return this.pending.length
  }

  /** Deadline of the earliest armed timer, if any. */
  nextDeadline(): number | undefined {
    return this.earliest()?.at
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock.advance: ${ms} is not a duration >= 0`)
    this.advanceTo(this.current + ms)
  }

  /** Moves time forward to `targetMs` (not backwards), firing due timers on the way. */
  advanceTo(targetMs: number): void {
    if (targetMs < this.current) throw new RangeError(`VirtualClock.advanceTo: ${targetMs} is in the past (now ${this.current})`)
    for (;;) {
      const next = this.earliest()
      if (next === undefined || next.at > targetMs) break
      this.pending = this.pending.filter(timer => timer !== next)
      this.current = next.at
      next.callback()
    }
    this.current = targetMs
  }

  /** Fires timers one at a time until none is left or `limit` have fired; returns how many fired. */
  runAll(limit = 10000): number {
    let fired = 0
    for (; fired < limit; fired++) {
      const at = this.nextDeadline()
      if (at === undefined) break
      this.advanceTo(Math.max(at, this.current))
    }
    return fired
  }

  private earliest(): VirtualTimer | undefined {
    let best: VirtualTimer | undefined
    for (const timer of this.pending) {
      if (best === undefined || timer.at < best.at || (timer.at === best.at && timer.id < best.id)) best = timer
    }
    return best
  }
}

/**
 * A deterministic PRNG for tests (mulberry32: 32-bit state, full period, good enough to spread
 * samples across [0, 1) for bounds checks; not for anything secret).
 */
export class SeededRandom implements Random {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let z = this.state
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296
  }
}

/** A Random that returns the given samples in turn (then repeats the last): for exact-edge tests. */
export class ScriptedRandom implements Random {
  private index = 0
  constructor(private readonly samples: readonly number[]) {
    if (samples.length === 0) throw new Error('ScriptedRandom needs at least one sample')
    for (const s of samples) if (!(s >= 0 && s < 1)) throw new RangeError(`ScriptedRandom: ${s} is not in [0, 1)`)
  }

  next(): number {
    const sample = this.samples[Math.min(this.index, this.samples.length - 1)] as number
    this.index++
    return sample
  }
}
