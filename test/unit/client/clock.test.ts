import t from 'tap'
import { RealClock, ScriptedRandom, SeededRandom, VirtualClock } from '../../../src/client/clock.js'

t.test('virtual clock fires due timers in deadline order, ties by creation, with now() at the deadline', async t => {
  const clock = new VirtualClock(1000)
  const fired: string[] = []
  clock.setTimer(30, () => fired.push(`c@${clock.now()}`))
  clock.setTimer(10, () => fired.push(`a@${clock.now()}`))
  clock.setTimer(10, () => fired.push(`b@${clock.now()}`))
  clock.setTimer(100, () => fired.push(`late@${clock.now()}`))
  clock.advance(30)
  t.same(fired, ['a@1010', 'b@1010', 'c@1030'])
  t.equal(clock.now(), 1030)
  t.equal(clock.pendingCount, 1)
  t.equal(clock.nextDeadline(), 1100)
})

t.test('timers armed inside a callback fire within the same advance when due; cleared ones never fire', async t => {
  const clock = new VirtualClock()
  const fired: number[] = []
  const cancelled = clock.setTimer(15, () => fired.push(-1))
  clock.setTimer(5, () => {
    fired.push(clock.now())
    clock.setTimer(5, () => fired.push(clock.now()))
  })
  clock.clearTimer(cancelled)
  clock.clearTimer(cancelled) // harmless twice
  clock.advance(20)
  t.same(fired, [5, 10])
  t.equal(clock.now(), 20)
  t.throws(() => clock.advance(-1), RangeError)
  t.throws(() => clock.advanceTo(19), RangeError)
})

t.test('runAll drains chained timers and stops at its limit', async t => {
  const clock = new VirtualClock()
  let n = 0
  const tick = (): void => { n++; clock.setTimer(1000, tick) }
  clock.setTimer(1000, tick)
  t.equal(clock.runAll(5), 5)
  t.equal(n, 5)
  t.equal(clock.now(), 5000)
})

t.test('seeded random is deterministic, in [0, 1), and spread', async t => {
  const a = new SeededRandom(42)
  const b = new SeededRandom(42)
  const c = new SeededRandom(43)
  const xs = Array.from({ length: 10000 }, () => a.next())
  t.same(xs.slice(0, 5), Array.from({ length: 5 }, () => b.next()))
  t.not(xs[0], c.next())
  t.ok(xs.every(x => x >= 0 && x < 1))
  t.ok(Math.min(...xs) < 0.001 && Math.max(...xs) > 0.999, 'reaches both edges')
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length
  t.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean} near 0.5`)
})

t.test('scripted random replays its samples and rejects values outside [0, 1)', async t => {
  const r = new ScriptedRandom([0.25, 0.75])
  t.same([r.next(), r.next(), r.next()], [0.25, 0.75, 0.75])
  t.throws(() => new ScriptedRandom([1]))
  t.throws(() => new ScriptedRandom([]))
})

t.test('real clock: a timer fires after its delay, a cleared one never does', async t => {
  const clock = new RealClock()
  const start = clock.now()
  let cleared = false
  const handle = clock.setTimer(10, () => { cleared = true })
  clock.clearTimer(handle)
  const firedAt = await new Promise<number>(resolve => clock.setTimer(30, () => resolve(clock.now())))
  t.ok(firedAt - start >= 29, `fired after ${firedAt - start} ms`)
  t.notOk(cleared)
})
