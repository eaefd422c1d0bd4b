// Edge detection in virtual time: only transitions are reported, repeats are ignored, a flap inside
// one settling window is one down/up pair, a brief up inside a down is nothing.
import t from 'tap'
import { LinkEdgeDetector, type LinkTimers } from '../../../src/system/link-watch.js'

class VirtualTimers implements LinkTimers {
  now = 0
  private next = 1
  private readonly pending = new Map<number, { at: number; callback: () => void }>()
  set(callback: () => void, ms: number): unknown {
    const id = this.next++
    this.pending.set(id, { at: this.now + ms, callback })
    return id
  }
  clear(handle: unknown): void { this.pending.delete(handle as number) }
  get count(): number { return this.pending.size }
  advance(ms: number): void {
    const end = this.now + ms
    for (;;) {
      const due = [...this.pending.entries()].filter(([, p]) => p.at <= end).sort((a, b) => a[1].at - b[1].at)[0]
      if (!due) break
      this.pending.delete(due[0])
      this.now = due[1].at
      due[1].callback()
    }
    this.now = end
  }
}

function setup(debounceMs: number) {
  const timers = new VirtualTimers()
  const edges: string[] = []
  const detector = new LinkEdgeDetector(debounceMs, (ifname, up, collapsed) => edges.push(`${timers.now} ${ifname} ${up ? 'up' : 'down'}${collapsed ? ' (flap)' : ''}`), timers)
  return { timers, edges, detector }
}

t.test('no debounce: each batch settles at its end; repeats are nothing', async t => {
  const { edges, detector, timers } = setup(0)
  detector.setInitial('eth0', { up: true })
  detector.observe('eth0', { up: true })
  detector.batchEnd()
  t.same(edges, [], 'a repeat of the initial state is no edge')
  detector.observe('eth0', { up: false })
  t.same(edges, [], 'nothing before the batch ends')
  detector.observe('eth0', { up: false })
  detector.batchEnd()
  t.same(edges, ['0 eth0 down'])
  detector.observe('eth0', { up: false })
  detector.batchEnd()
  t.same(edges, ['0 eth0 down'], 'a repeated down is nothing')
  detector.observe('eth0', { up: true })
  detector.batchEnd()
  t.same(edges, ['0 eth0 down', '0 eth0 up'])
  t.equal(detector.reported('eth0'), true)
  t.equal(timers.count, 0, 'no timers without a debounce')
})

t.test('no debounce: down and up in one batch is one down/up pair (flap), down-up-down-up too', async t => {
  const { edges, detector } = setup(0)
  detector.setInitial('eth0', { up: true })
  detector.observe('eth0', { up: false })
  detector.observe('eth0', { up: true })
  detector.batchEnd()
  t.same(edges, ['0 eth0 down (flap)', '0 eth0 up (flap)'])
  edges.length = 0
  for (const up of [false, true, false, true]) detector.observe('eth0', { up })
  detector.batchEnd()
  t.same(edges, ['0 eth0 down (flap)', '0 eth0 up (flap)'], 'two flaps in one batch: still one pair')
})

t.test('a brief up while down is nothing; an interface down at start reports its first up', async t => {
  const { edges, detector } = setup(0)
  detector.setInitial('eth0', { up: false })
  t.equal(detector.reported('eth0'), false)
  detector.observe('eth0', { up: true })
  detector.observe('eth0', { up: false })
  detector.batchEnd()
  t.same(edges, [], 'down before and after')
  detector.observe('eth0', { up: true })
  detector.batchEnd()
  t.same(edges, ['0 eth0 up'])
})

t.test('debounce 300 ms: a change counts after 300 ms of quiet; flaps within it collapse', async t => {
  const { edges, detector, timers } = setup(300)
  detector.setInitial('eth0', { up: true })
  detector.observe('eth0', { up: false })
  detector.batchEnd()
  timers.advance(299)
  t.same(edges, [], 'not yet at 299 ms')
  timers.advance(1)
  t.same(edges, ['300 eth0 down'])
  // up at 1000, down at 1100, up at 1200: settles 300 ms after the last change
  timers.advance(700)
  detector.observe('eth0', { up: true })
  timers.advance(100)
  detector.observe('eth0', { up: false })
  timers.advance(100)
  detector.observe('eth0', { up: true })
  timers.advance(299)
  t.same(edges, ['300 eth0 down'], 'still settling at 1499 ms')
  timers.advance(1)
  t.same(edges, ['300 eth0 down', '1500 eth0 up'], 'one up, at 1200 + 300 ms')
  t.equal(timers.count, 0)
  // a flap from up: down at 2000, up at 2050 -> one pair at 2350
  timers.advance(500)
  detector.observe('eth0', { up: false })
  timers.advance(50)
  detector.observe('eth0', { up: true })
  timers.advance(300)
  t.same(edges.slice(2), ['2350 eth0 down (flap)', '2350 eth0 up (flap)'])
  // a repeat does not restart the window: down at 2350, a repeat at 2550, settled at 2650
  detector.observe('eth0', { up: false })
  timers.advance(200)
  detector.observe('eth0', { up: false })
  timers.advance(100)
  t.same(edges.slice(4), ['2650 eth0 down'], 'settled 300 ms after the change, not after the repeat')
})

t.test('the carrier-down count: a flap that left no down message still counts; a first count is no flap', async t => {
  const { edges, detector } = setup(0)
  detector.setInitial('eth0', { up: true })
  detector.observe('eth0', { up: true, carrierDownCount: 4 })
  detector.batchEnd()
  t.same(edges, [], 'the first count seen is the baseline')
  detector.observe('eth0', { up: true, carrierDownCount: 4 })
  detector.batchEnd()
  t.same(edges, [], 'same count, same state')
  detector.observe('eth0', { up: true, carrierDownCount: 5 })
  detector.batchEnd()
  t.same(edges, ['0 eth0 down (flap)', '0 eth0 up (flap)'], 'count moved while up before and after')
  edges.length = 0
  detector.observe('eth0', { up: false, carrierDownCount: 6 })
  detector.batchEnd()
  detector.observe('eth0', { up: true, carrierDownCount: 6 })
  detector.batchEnd()
  t.same(edges, ['0 eth0 down', '0 eth0 up'], 'an ordinary down and up, counted once')
})

t.test('interfaces are independent; unknown interfaces are ignored; bad debounce is refused', async t => {
  const { edges, detector } = setup(0)
  detector.setInitial('eth0', { up: true })
  detector.setInitial('eth1', { up: true })
  detector.observe('eth1', { up: false })
  detector.observe('wlan0', { up: false })
  detector.batchEnd()
  t.same(edges, ['0 eth1 down'])
  t.equal(detector.reported('eth0'), true)
  t.equal(detector.reported('wlan0'), undefined)
  t.throws(() => new LinkEdgeDetector(-1, () => {}), new RangeError('debounceMs must be >= 0, got -1'))
})

t.test('close cancels a pending window', async t => {
  const { edges, detector, timers } = setup(300)
  detector.setInitial('eth0', { up: true })
  detector.observe('eth0', { up: false })
  detector.close()
  timers.advance(1000)
  t.same(edges, [])
  t.equal(timers.count, 0)
})
