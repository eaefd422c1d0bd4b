// RFC 8415 section 15 in virtual time: every client message, both profiles.
import t, { type Test } from 'tap'
import { ScriptedRandom, SeededRandom, VirtualClock, type Random } from '../../../src/client/clock.js'
import { profile, type ProfileName } from '../../../src/client/profiles.js'
import {
  ELAPSED_TIME_MAX, messageParameters, Retransmission, type RetransmissionParameters, type RetransmittedMessage, type Transmission,
} from '../../../src/client/retransmit.js'

const MESSAGES: RetransmittedMessage[] = ['Solicit', 'Request', 'Confirm', 'Renew', 'Rebind', 'Information-request', 'Release', 'Decline']
const PROFILES: ProfileName[] = ['rfc8415', 'rfc3315']
const RENEW_MRD_MS = 1800_000 // e.g. T2 - T1 = 30 min
const REBIND_MRD_MS = 900_000
// Floating point: RT values are products of exact decimal fractions.
const EPS = 1e-6

interface Run {
  sends: { at: number; tx: Transmission }[]
  end: { at: number; reason: 'MRC' | 'MRD' } | undefined
  firstSendAt: number
  params: RetransmissionParameters
}

/** Drives one exchange on a virtual clock, as the state machine will, until give-up or `maxSends`. */
function runExchange(params: RetransmissionParameters, random: Random, maxSends = 40): Run {
  const clock = new VirtualClock(5000)
  const rtx = new Retransmission(params, random)
  const run: Run = { sends: [], end: undefined, firstSendAt: rtx.start(clock.now()), params }
  const send = (): void => {
    const tx = rtx.transmit(clock.now())
    run.sends.push({ at: clock.now(), tx })
    if (run.sends.length >= maxSends) return
    clock.setTimer(tx.timeoutAt - clock.now(), () => {
      const decision = rtx.timeout(clock.now())
      if (decision.action === 'retransmit') send()
      else run.end = { at: clock.now(), reason: decision.reason }
    })
  }
  clock.setTimer(run.firstSendAt - clock.now(), send)
  clock.runAll()
  return run
}

function paramsFor(p: ProfileName, m: RetransmittedMessage): RetransmissionParameters {
  return messageParameters(profile(p), m, { mrdMs: m === 'Renew' ? RENEW_MRD_MS : REBIND_MRD_MS })
}

/** Checks every RFC 8415 section 15 rule on one run; returns the violations found. */
function violations(run: Run): string[] {
  const { irtMs, mrtMs, mrc, mrdMs, maxDelayMs, firstRtAboveIrt } = run.params
  const first = run.sends[0]
  if (!first) return ['nothing sent']
  const problems: string[] = []
  const fail = (msg: string): void => { problems.push(msg) }
  if (run.firstSendAt < 5000 || run.firstSendAt > 5000 + maxDelayMs) fail(`initial delay ${run.firstSendAt - 5000} outside 0..${maxDelayMs}`)
  if (first.at !== run.firstSendAt) fail('first send not at the chosen time')
  const rt0 = first.tx.rtMs
  if (firstRtAboveIrt) {
    if (!(rt0 > irtMs && rt0 <= 1.1 * irtMs + EPS)) fail(`first Solicit RT ${rt0} not in (IRT, 1.1 IRT]`)
  } else if (!(rt0 >= 0.9 * irtMs - EPS && rt0 <= 1.1 * irtMs + EPS)) fail(`first RT ${rt0} not within IRT ±10%`)
  run.sends.forEach(({ at, tx }, i) => {
    if (tx.attempt !== i + 1 || tx.retransmission !== i > 0) fail(`attempt numbering at ${i}`)
    const expectedElapsed = Math.min(ELAPSED_TIME_MAX, Math.floor((at - first.at) / 10))
    if (tx.elapsedCentiseconds !== expectedElapsed) fail(`elapsed ${tx.elapsedCentiseconds} != ${expectedElapsed} at send ${i + 1}`)
    if (i === 0) return
    const prev = run.sends[i - 1] as { at: number; tx: Transmission }
    if (Math.abs(at - prev.tx.timeoutAt) > EPS) fail(`send ${i + 1} not at the previous timeout`)
    const rt = tx.rtMs
    const doubled = rt >= 1.9 * prev.tx.rtMs - EPS && rt <= 2.1 * prev.tx.rtMs + EPS && (mrtMs === 0 || rt <= mrtMs + EPS)
    const capped = mrtMs > 0 && rt >= 0.9 * mrtMs - EPS && rt <= 1.1 * mrtMs + EPS && 2.1 * prev.tx.rtMs > mrtMs
    if (!doubled && !capped) fail(`RT ${rt} after ${prev.tx.rtMs} is neither 2RT±RAND·RT nor MRT±10% (MRT ${mrtMs})`)
  })
  const last = run.sends[run.sends.length - 1] as { at: number; tx: Transmission }
  if (mrc > 0) {
    if (run.sends.length !== mrc) fail(`${run.sends.length} transmissions, MRC is ${mrc}`)
    if (run.end?.reason !== 'MRC' || run.end.at !== last.tx.timeoutAt) fail('no MRC give-up at the last RT expiry')
  } else if (mrdMs > 0) {
    if (run.end?.reason !== 'MRD' || Math.abs(run.end.at - (first.at + mrdMs)) > EPS) fail(`MRD give-up ${JSON.stringify(run.end)} not at first + ${mrdMs}`)
    if (!(last.at < first.at + mrdMs)) fail('sent at or after MRD')
  } else if (run.end !== undefined) fail('gave up without MRC or MRD')
  return problems
}

function checkRun(t: Test, run: Run, label: string): void {
  t.same(violations(run), [], `${label}: ${run.sends.length} sends, end ${run.end?.reason ?? 'none (unbounded)'}`)
}

t.test('every message in both profiles follows section 15 (a seeded run each)', async t => {
  for (const p of PROFILES) {
    for (const m of MESSAGES) checkRun(t, runExchange(paramsFor(p, m), new SeededRandom(7)), `${p} ${m}`)
  }
})

t.test('the same rules hold over many seeds, and the bounds are reached', async t => {
  const seeds = 400
  for (const p of PROFILES) {
    for (const m of MESSAGES) {
      const params = paramsFor(p, m)
      let minFirst = Infinity, maxFirst = -Infinity, minCap = Infinity, maxCap = -Infinity, minDelay = Infinity, maxDelay = -Infinity
      const problems: string[] = []
      for (let seed = 1; seed <= seeds; seed++) {
        const run = runExchange(params, new SeededRandom(seed * 2654435761), 25)
        if (problems.length < 3) problems.push(...violations(run).map(v => `seed ${seed}: ${v}`))
        const rt0 = run.sends[0]?.tx.rtMs ?? NaN
        minFirst = Math.min(minFirst, rt0); maxFirst = Math.max(maxFirst, rt0)
        minDelay = Math.min(minDelay, run.firstSendAt - 5000); maxDelay = Math.max(maxDelay, run.firstSendAt - 5000)
        for (const s of run.sends.slice(1)) {
          if (params.mrtMs > 0 && s.tx.rtMs >= 0.9 * params.mrtMs - EPS && s.tx.rtMs <= 1.1 * params.mrtMs + EPS) {
            minCap = Math.min(minCap, s.tx.rtMs); maxCap = Math.max(maxCap, s.tx.rtMs)
          }
        }
      }
      t.same(problems, [], `${p} ${m}: all ${seeds} seeds within the rules`)
      const irt = params.irtMs
      const label = `${p} ${m}`
      if (params.firstRtAboveIrt) {
        t.ok(minFirst > irt && minFirst < irt * 1.003, `${label}: first RT min ${minFirst} just above IRT`)
      } else {
        t.ok(minFirst < irt * 0.903, `${label}: first RT min ${minFirst} near 0.9 IRT`)
      }
      t.ok(maxFirst > irt * 1.097, `${label}: first RT max ${maxFirst} near 1.1 IRT`)
      if (params.maxDelayMs > 0) {
        t.ok(minDelay < params.maxDelayMs * 0.01 && maxDelay > params.maxDelayMs * 0.99, `${label}: initial delay spans 0..${params.maxDelayMs} (${minDelay}..${maxDelay})`)
      } else {
        t.equal(maxDelay, 0, `${label}: no initial delay`)
      }
      // MRT is reached within 25 sends for every capped message whose exchange lasts long enough.
      if (params.mrtMs > 0 && params.mrc === 0 && (params.mrdMs === 0 || params.mrdMs > 8 * params.mrtMs)) {
        t.ok(minCap < params.mrtMs * 0.93 && maxCap > params.mrtMs * 1.07, `${label}: capped RT spans MRT±10% (${minCap}..${maxCap})`)
      }
    }
  }
})

t.test('exact sequences with RAND = 0 (sample 0.5)', async t => {
  const mid = new ScriptedRandom([0.5])
  const req = runExchange(paramsFor('rfc8415', 'Request'), mid)
  t.same(req.sends.map(s => s.tx.rtMs / 1000), [1, 2, 4, 8, 16, 30, 30, 30, 30, 30], 'Request: doubling then MRT 30 s, 10 sends')
  t.same(req.end, { at: req.firstSendAt + 181_000, reason: 'MRC' }, 'Request fails when the 10th RT expires')

  const sol = runExchange(paramsFor('rfc3315', 'Solicit'), new ScriptedRandom([0.5]), 10)
  // Initial delay 0.5 s; first RAND = 0.1 * (2^19 + 1) / 2^20 (just over 0.05); then RAND 0.
  t.equal(sol.firstSendAt, 5500)
  t.same(sol.sends.map(s => Math.round(s.tx.rtMs)), [1050, 2100, 4200, 8400, 16800, 33600, 67200, 120000, 120000, 120000], 'Solicit rfc3315 capped at SOL_MAX_RT 120 s')
  const sol8415 = runExchange(paramsFor('rfc8415', 'Solicit'), new ScriptedRandom([0.5]), 14)
  t.equal(Math.round(sol8415.sends[13]?.tx.rtMs ?? 0), 3_600_000, 'Solicit rfc8415 capped at SOL_MAX_RT 3600 s')

  const rel = runExchange(paramsFor('rfc3315', 'Release'), new ScriptedRandom([0.5]))
  t.same(rel.sends.map(s => s.tx.rtMs / 1000), [1, 2, 4, 8, 16], 'Release rfc3315: REL_MAX_RC 5, no MRT')
  t.equal(runExchange(paramsFor('rfc8415', 'Decline'), new ScriptedRandom([0.5])).sends.length, 4, 'Decline rfc8415: DEC_MAX_RC 4')

  const cnf = runExchange(paramsFor('rfc8415', 'Confirm'), new ScriptedRandom([0.5]))
  t.same(cnf.sends.map(s => s.tx.rtMs / 1000), [1, 2, 4, 4], 'Confirm: RTs 1, 2, 4, 4 s ...')
  t.same(cnf.end, { at: cnf.firstSendAt + 10_000, reason: 'MRD' }, '... ends exactly at CNF_MAX_RD 10 s (timer cut short)')
  t.equal(cnf.sends[3]?.tx.timeoutAt, cnf.firstSendAt + 10_000)
})

t.test('RAND edges: sample 0 gives -0.1, the top sample +0.1; Solicit first RT stays strictly above IRT', async t => {
  const almostOne = 1 - 2 ** -52
  const low = new Retransmission(paramsFor('rfc8415', 'Request'), new ScriptedRandom([0]))
  low.start(0)
  t.equal(low.transmit(0).rtMs, 900)
  const high = new Retransmission(paramsFor('rfc8415', 'Request'), new ScriptedRandom([almostOne]))
  high.start(0)
  t.ok(Math.abs(high.transmit(0).rtMs - 1100) < EPS)
  const solLow = new Retransmission(paramsFor('rfc8415', 'Solicit'), new ScriptedRandom([0, 0]))
  solLow.start(0)
  const rt = solLow.transmit(0).rtMs
  t.ok(rt > 1000 && rt < 1000.001, `Solicit first RT ${rt} strictly above IRT even at the lowest sample`)
  const solHigh = new Retransmission(paramsFor('rfc8415', 'Solicit'), new ScriptedRandom([0, almostOne]))
  solHigh.start(0)
  t.ok(Math.abs(solHigh.transmit(0).rtMs - 1100) < EPS, 'Solicit first RT reaches 1.1 IRT')
})

t.test('Elapsed Time: 0 first, centiseconds after, capped at 0xFFFF past 655.35 s', async t => {
  const rtx = new Retransmission(paramsFor('rfc8415', 'Solicit'), new SeededRandom(1))
  t.equal(rtx.elapsedCentiseconds(100), 0, 'before any transmission')
  rtx.start(0)
  t.equal(rtx.transmit(1000).elapsedCentiseconds, 0, 'first message')
  t.equal(rtx.elapsedCentiseconds(1009), 0)
  t.equal(rtx.elapsedCentiseconds(1010), 1)
  t.equal(rtx.transmit(2234.5).elapsedCentiseconds, 123)
  t.equal(rtx.elapsedCentiseconds(1000 + 655_340), 65534)
  t.equal(rtx.elapsedCentiseconds(1000 + 655_350), 65535)
  t.equal(rtx.elapsedCentiseconds(1000 + 655_360), 65535)
  t.equal(rtx.transmit(1000 + 3_600_000).elapsedCentiseconds, ELAPSED_TIME_MAX)
})

t.test('Renew and Rebind demand their MRD; the initial delay is configurable, 0 allowed', async t => {
  t.throws(() => messageParameters(profile(), 'Renew'), /Renew needs mrdMs/)
  t.throws(() => messageParameters(profile(), 'Rebind', { mrdMs: 0 }), /Rebind needs mrdMs/)
  t.equal(messageParameters(profile(), 'Solicit', { maxDelayMs: 0 }).maxDelayMs, 0)
  t.equal(messageParameters(profile(), 'Information-request', { maxDelayMs: 250 }).maxDelayMs, 250)
  t.equal(messageParameters(profile(), 'Request', { maxDelayMs: 250 }).maxDelayMs, 0, 'Request is never delayed')
  const zero = new Retransmission(messageParameters(profile(), 'Solicit', { maxDelayMs: 0 }), new SeededRandom(3))
  t.equal(zero.start(42), 42, 'delay 0: first Solicit at once')
  t.throws(() => zero.start(43), /twice/)
  t.throws(() => messageParameters(profile(), 'Solicit', { maxDelayMs: -1 }), RangeError)
})

t.test('a SOL_MAX_RT received mid-exchange caps later RTs', async t => {
  const rtx = new Retransmission(paramsFor('rfc8415', 'Solicit'), new ScriptedRandom([0.5]))
  let now = rtx.start(0)
  let tx = rtx.transmit(now)
  for (let i = 0; i < 8; i++) { now = tx.timeoutAt; tx = rtx.transmit(now) }
  t.equal(Math.round(tx.rtMs), 268_800)
  rtx.setMaxRetransmissionTime(60_000)
  now = tx.timeoutAt
  t.equal(rtx.transmit(now).rtMs, 60_000)
})
