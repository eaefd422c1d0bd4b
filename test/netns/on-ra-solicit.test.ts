// `--on-ra solicit` (the original design: each accepted-RA notification starts a Solicit exchange
// unless one is already running) with real radvd, Kea and `ra6dhcp run` over the rtnetlink RA
// source in host namespaces, against `--on-ra auto` on the same RAs. radvd advertises a prefix
// (A=0), so every RA it sends reaches the daemon through RTM_NEWNDUSEROPT (rtnetlink's gap is RAs
// without such options); extra RAs come at will from radvd answering `rdisc6` in the client
// namespace. Judged by the capture (decoded by tshark), the daemon's log and its counters.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import { need } from '../lib/requirements.js'
import { waitFor } from '../lib/servers.js'
import { ClientLab, CLIENT_LAB_NEEDS, MessageType } from '../lib/client-lab.js'

const execFileAsync = promisify(execFile)

const PREFIX64 = '2001:db8:7::'
/** Long timers: no Renew or Rebind may run during the test. */
const KEA_TIMERS = { renewTimer: 1000, rebindTimer: 1600, preferredLifetime: 1800, validLifetime: 3600 }
const RADVD = { prefixes: [{ prefix: `${PREFIX64}/64`, autonomous: false }] }
/** RFC 8415 section 7.6: SOL_TIMEOUT, the Solicit's IRT. */
const SOL_TIMEOUT = 1
/**
 * Capture timestamps against the daemon's timers. A timer that fires late lengthens its interval
 * and (the next RT being computed from the actual send time) counts 1.9x against the next bound.
 */
const SLACK = 0.06

/** One captured frame: an RA to the client, or a DHCPv6 message. */
interface Frame {
  /** Seconds since the epoch. */
  time: number
  ra: boolean
  fromClient: boolean
  msgType: number
  xid: number
  /** Elapsed Time option in seconds (tshark shows it in ms, the option's centiseconds x 10); NaN without one. */
  elapsed: number
}

/** RAs and DHCPv6 messages from the lab's capture, in order (tshark: an independent decoder). */
async function readFrames(file: string): Promise<Frame[]> {
  if (!existsSync(file)) return []
  const fields = ['frame.time_epoch', 'icmpv6.type', 'udp.srcport', 'dhcpv6.msgtype', 'dhcpv6.xid', 'dhcpv6.elapsed_time']
  const args = ['-n', '-r', file, '-Y', 'icmpv6.type == 134 or dhcpv6', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f']
  for (const f of fields) args.push('-e', f)
  let stdout: string
  try {
    stdout = String((await execFileAsync('tshark', args, { maxBuffer: 64 << 20 })).stdout)
  } catch (err) {
    // dumpcap may be writing the last record: the lines before it are good.
    const e = err as { stdout?: string; stderr?: string; message: string }
    if (!/cut short|truncated/i.test(String(e.stderr))) throw new Error(`tshark cannot read ${file}: ${e.stderr ?? e.message}`)
    stdout = String(e.stdout ?? '')
  }
  return stdout.split('\n').filter(line => line.trim() !== '').map(line => {
    const [time = '', icmpType = '', srcPort = '', msgType = '', xid = '', elapsed = ''] = line.split('\t')
    return {
      time: Number(time), ra: icmpType === '134', fromClient: srcPort === '546',
      msgType: Number(msgType || NaN), xid: Number(xid || NaN), elapsed: elapsed === '' ? NaN : Number(elapsed) / 1000,
    }
  })
}

const isSolicit = (f: Frame) => f.fromClient && f.msgType === MessageType.Solicit

/** States in which the machine runs an exchange (src/client/api.ts ClientState). */
const EXCHANGE_STATES = new Set(['soliciting', 'requesting', 'renewing', 'rebinding', 'confirming', 'releasing', 'declining', 'information-requesting'])

/** What one "RA accepted by the kernel" log line led to, read from the log lines after it. */
interface RaOutcome {
  /** The machine's state when the RA came (from the log's "A -> B" lines). */
  stateBefore: string
  replayed: boolean
  /** The next lines are "<state> -> soliciting" for this RA and the first Solicit of a new exchange. */
  startedSolicit: boolean
  /** That Solicit's transaction id. */
  xid?: number
  /** Any state change right after it. */
  changedState: boolean
}

function raOutcomes(log: Record<string, unknown>[]): RaOutcome[] {
  const outcomes: RaOutcome[] = []
  let state = 'idle'
  log.forEach((line, i) => {
    const change = /^(\S+) -> (\S+)$/.exec(String(line.msg))
    if (change) { state = change[2]!; return }
    if (line.msg !== 'RA accepted by the kernel') return
    const next = log[i + 1], after = log[i + 2]
    const startedSolicit = next?.msg === `${state} -> soliciting` && next.why === 'RA (on-ra solicit)' && after?.msg === 'sent Solicit'
    const outcome: RaOutcome = { stateBefore: state, replayed: line.replayed === true, startedSolicit, changedState: /^\S+ -> \S+$/.test(String(next?.msg)) }
    if (startedSolicit) outcome.xid = Number(after.xid)
    outcomes.push(outcome)
  })
  return outcomes
}

/** One RA now: radvd answers rdisc6's Router Solicitation (unicast), and rdisc6 returns once it is in. */
async function elicitRa(lab: ClientLab): Promise<void> {
  await lab.ns.run(['rdisc6', '-1', '-r', '3', '-w', '1000', lab.ifname])
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

/**
 * Log, counters and capture read together once they agree on the number of RAs (an RA from radvd
 * may arrive between two reads).
 */
async function snapshot(lab: ClientLab): Promise<{ outcomes: RaOutcome[]; counters: Record<string, number>; frames: Frame[] }> {
  return waitFor('log and counters to agree on the RAs seen', async () => {
    const counters = lab.status().counters
    const outcomes = raOutcomes(lab.daemon!.log())
    const frames = await readFrames(lab.capture.file)
    return outcomes.length === (counters['ra.live'] ?? 0) + (counters['ra.replayed'] ?? 0) && { outcomes, counters, frames }
  }, 5000, 200)
}

t.test('--on-ra solicit: RAs during a running Solicit exchange join it; once bound, an RA starts a new exchange', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const lab = await ClientLab.create(t, { prefix64: PREFIX64, radvd: RADVD, kea: KEA_TIMERS })
  await lab.stopKea() // (a) no server answers yet
  lab.startDaemon(['--on-ra', 'solicit', '--sol-max-delay', '0'])

  // (a) Several RAs while the server is silent: one exchange, retransmitted per RFC 8415 section 15.
  await lab.waitForPacket('the first Solicit', p => p.fromClient && p.msgType === MessageType.Solicit, 10_000)
  for (let i = 0; i < 3; i++) {
    await elicitRa(lab)
    await sleep(300)
  }
  // Kea starts after the second retransmission (about 3 s in), so at least three go unanswered.
  await waitFor('two retransmissions of the Solicit', async () => {
    lab.assertDaemonRunning()
    return (await lab.packets()).filter(p => p.fromClient && p.msgType === MessageType.Solicit).length >= 3
  }, 10_000, 200)

  // (b) Kea comes up: the running exchange's next retransmission is answered.
  await lab.restartKea()
  const leased = await lab.waitForLeasedAddress(25_000)
  const bound = await waitFor('ctl status bound', () => { const s = lab.status(); return s.state === 'bound' && s }, 5000)

  let frames = await waitFor('the Reply in the capture', async () => {
    const frames = await readFrames(lab.capture.file)
    return frames.some(f => !f.fromClient && f.msgType === MessageType.Reply) && frames
  }, 5000, 200)
  const advertise = frames.find(f => !f.fromClient && f.msgType === MessageType.Advertise)!
  const solicits = frames.filter(f => isSolicit(f) && f.time < advertise.time)
  t.same([...new Set(solicits.map(f => f.xid))], [solicits[0]!.xid], `${solicits.length} Solicits before the first Advertise, all with one xid (0x${solicits[0]!.xid.toString(16)})`)
  t.ok(solicits.length >= 3, `the Solicit was retransmitted while Kea was down (${solicits.length} Solicits)`)
  const rasDuringExchange = frames.filter(f => f.ra && f.time > solicits[0]!.time && f.time < advertise.time)
  t.ok(rasDuringExchange.length >= 3, `${rasDuringExchange.length} RAs reached eth0 during that exchange`)
  t.same(frames.filter(f => f.fromClient && f.time < advertise.time && f.msgType !== MessageType.Solicit), [], 'nothing but Solicits before the Advertise')
  t.equal(advertise.xid, solicits[0]!.xid, 'Kea\'s Advertise answers that exchange')

  // Elapsed Time: 0 in the first message, then the time since it (RFC 8415 section 21.9).
  t.equal(solicits[0]!.elapsed, 0, 'Elapsed Time 0 in the first Solicit')
  for (const s of solicits.slice(1)) {
    const since = s.time - solicits[0]!.time
    t.ok(Math.abs(s.elapsed - since) <= SLACK, `Elapsed Time ${s.elapsed.toFixed(2)} s, sent ${since.toFixed(3)} s after the first`)
  }
  // RFC 8415 sections 15 and 18.2.1: RT1 = IRT + RAND*IRT with RAND in (0, 0.1]; then
  // RT = 2*RTprev + RAND*RTprev with RAND in [-0.1, 0.1] (SOL_MAX_RT 3600 s is far off).
  const intervals = solicits.slice(1).map((s, i) => s.time - solicits[i]!.time)
  const [rt1] = intervals
  t.ok(rt1 !== undefined && rt1 > SOL_TIMEOUT - 0.005 && rt1 <= SOL_TIMEOUT * 1.1 + SLACK, `first RT ${rt1?.toFixed(3)} s in (IRT, 1.1*IRT], IRT = ${SOL_TIMEOUT} s`)
  intervals.slice(1).forEach((rt, i) => {
    const previous = intervals[i]!
    t.ok(rt >= 1.9 * previous - SLACK && rt <= 2.1 * previous + SLACK, `RT ${rt.toFixed(3)} s is 2*RTprev +- 10 % (RTprev ${previous.toFixed(3)} s)`)
  })

  // (b) Advertise, Request, Reply: the address of the Reply is on eth0.
  const request = frames.find(f => f.fromClient && f.msgType === MessageType.Request && f.time >= advertise.time)
  const reply = request && frames.find(f => !f.fromClient && f.msgType === MessageType.Reply && f.xid === request.xid)
  t.ok(request && reply, 'Request and its Reply follow the Advertise')
  t.not(request?.xid, advertise.xid, 'the Request is a new transaction')
  const firstReplyAt = reply?.time ?? NaN
  const replyPacket = (await lab.packets()).find(p => !p.fromClient && p.msgType === MessageType.Reply)
  t.same(replyPacket?.iaAddresses.map(a => a.address), [leased.local], `eth0 has the Reply's address ${leased.local}`)
  t.ok(bound.leases.some(l => l.entries.some(e => e.value === leased.local)), 'ctl status shows the lease')

  // (c) Bound, no exchange running: the next RA starts a new Solicit exchange (new xid, at once).
  await elicitRa(lab)
  frames = await waitFor('a Solicit after the Reply', async () => {
    const frames = await readFrames(lab.capture.file)
    return frames.some(f => isSolicit(f) && f.time > firstReplyAt) && frames
  }, 5000, 200)
  const again = frames.find(f => isSolicit(f) && f.time > firstReplyAt)!
  const raBefore = frames.filter(f => f.ra && f.time <= again.time).pop()
  t.ok(raBefore && again.time - raBefore.time < 0.25, `the new Solicit leaves ${raBefore ? ((again.time - raBefore.time) * 1000).toFixed(0) : '?'} ms after an RA`)
  t.same(frames.filter(f => f.fromClient && f.time > firstReplyAt && f.time < again.time), [], 'nothing sent between the Reply and that RA')
  t.not(again.xid, solicits[0]!.xid, 'a new transaction id, not the first exchange\'s')
  t.equal(again.elapsed, 0, 'Elapsed Time 0: the first message of a new exchange')
  const { againReply } = await waitFor('the new exchange to end with a Reply', async () => {
    const frames = await readFrames(lab.capture.file)
    const adv = frames.find(f => !f.fromClient && f.msgType === MessageType.Advertise && f.xid === again.xid)
    const req = adv && frames.find(f => f.fromClient && f.msgType === MessageType.Request && f.time >= adv.time)
    const rep = req && frames.find(f => !f.fromClient && f.msgType === MessageType.Reply && f.xid === req.xid)
    return rep && { againReply: rep }
  }, 5000, 200)
  const againReplyPacket = (await lab.packets()).find(p => !p.fromClient && p.msgType === MessageType.Reply && p.xid === againReply.xid)
  t.same(againReplyPacket?.iaAddresses.map(a => a.address), [leased.local], 'Kea gives the same address again')
  await waitFor('ctl status bound again', () => lab.status().state === 'bound', 5000)
  t.same((await lab.leasedAddresses()).map(a => a.local), [leased.local], 'eth0 still has the one leased address')
  const reasons = lab.hookCalls().map(env => env.reason)
  t.notOk(reasons.some(r => r === 'RELEASE6' || r === 'EXPIRE6' || r === 'STOP6'), `the lease was kept while re-soliciting (hook reasons: ${reasons.join(' ')})`)

  // The rule over the whole run, from the daemon's log: an RA while an exchange runs starts
  // nothing and is counted as ra.ignored-running; an RA with none running (idle, bound) starts one.
  const { outcomes, counters, frames: finalFrames } = await snapshot(lab)
  for (const o of outcomes) {
    const running = EXCHANGE_STATES.has(o.stateBefore)
    t.equal(o.startedSolicit, !running, `RA${o.replayed ? ' (replayed)' : ''} in state ${o.stateBefore}: ${running ? 'joins the running exchange' : 'starts a Solicit exchange'}`)
  }
  const absorbed = outcomes.filter(o => !o.startedSolicit)
  const started = outcomes.filter(o => o.startedSolicit)
  t.ok(absorbed.filter(o => o.stateBefore === 'soliciting').length >= 3, `${absorbed.length} RAs joined a running exchange`)
  t.ok(started.some(o => o.stateBefore === 'bound'), 'at least one RA started an exchange from bound')
  t.equal(counters['ra.ignored-running'], absorbed.length, 'ctl status counts each of them as ra.ignored-running')
  t.equal(counters['ra.ignored'] ?? 0, 0, 'no RA ignored for another reason')
  // The capture agrees: one Solicit transaction per RA that started one (the last may still be on its way).
  const xidsOnWire = await waitFor('the last exchange on the wire', async () => {
    const onWire = new Set((await readFrames(lab.capture.file)).filter(isSolicit).map(f => f.xid))
    return started.every(o => onWire.has(o.xid!)) && onWire
  }, 3000, 200).catch(() => new Set(finalFrames.filter(isSolicit).map(f => f.xid)))
  t.same([...xidsOnWire].sort(), started.map(o => o.xid!).sort(), `Solicit transactions on the wire are exactly those the RAs started (${started.length})`)
})

t.test('--on-ra auto, the contrast: the same RAs while bound start nothing', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const lab = await ClientLab.create(t, { prefix64: PREFIX64, radvd: RADVD, kea: KEA_TIMERS })
  lab.startDaemon(['--on-ra', 'auto', '--sol-max-delay', '0'])
  await lab.waitForLeasedAddress()
  await waitFor('ctl status bound', () => lab.status().state === 'bound', 5000)
  const replyAt = await waitFor('the Reply in the capture', async () => (await readFrames(lab.capture.file)).find(f => !f.fromClient && f.msgType === MessageType.Reply)?.time, 5000, 200)
  for (let i = 0; i < 3; i++) {
    await elicitRa(lab)
    await sleep(300)
  }
  await sleep(700) // --on-ra solicit answered an RA within a few ms
  const { outcomes, counters, frames } = await snapshot(lab)
  const rasAfter = frames.filter(f => f.ra && f.time > replyAt)
  t.ok(rasAfter.length >= 3, `${rasAfter.length} RAs reached eth0 after the Reply`)
  t.same(frames.filter(f => f.fromClient && f.time > replyAt).map(f => f.msgType), [], 'the client sent nothing after the Reply')
  const whileBound = outcomes.filter(o => o.stateBefore === 'bound')
  t.ok(whileBound.length >= 3, `the daemon was notified of ${whileBound.length} RAs while bound`)
  t.same(whileBound.filter(o => o.changedState), [], 'none of them changed the state')
  t.equal(counters['ra.no-change'], outcomes.length - 1, 'ctl status counts every RA but the one that started the exchange as ra.no-change')
  t.equal(counters['ra.ignored-running'] ?? 0, 0, 'ra.ignored-running is --on-ra solicit\'s counter')
  t.equal(lab.status().state, 'bound')
})
