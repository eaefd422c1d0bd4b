// The ports as the daemon uses them: the lease through the real LeaseStore (saved, loaded by a
// new machine, Confirmed), async effects kept in order, failures counted, and the per-message events.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ScriptedRandom, VirtualClock } from '../../../../src/client/clock.js'
import { ClientMachine } from '../../../../src/client/machine/machine.js'
import type { ClientEffects, ClientEvent } from '../../../../src/client/machine/ports.js'
import { LeaseStore, type StoredLease } from '../../../../src/state/lease-store.js'
import { CLIENT_DUID, NA1, START_MS, addr, answer, bench, bind, iaNa, iaPd, leaseReply } from './harness.js'

const SPEC = { mode: 'stateful' as const, iaNa: [1], iaPd: [{ iaid: 2, prefixLength: 56 }], dns: true }

t.test('the lease saved through LeaseStore is what a restarted machine Confirms', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'ra6dhcp-machine-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const store = new LeaseStore(dir)
  const saved: Promise<void>[] = []
  const effects: ClientEffects = {
    applyAddress: () => {}, removeAddress: () => {}, applyDns: () => {}, clearDns: () => {}, hook: () => {},
    saveLease: lease => { const p = store.save(lease); saved.push(p); return p },
    removeLease: () => store.remove('eth0'),
  }
  // A bench whose effects are the real store.
  const clock = new VirtualClock(START_MS)
  const sent: Uint8Array[] = []
  const machine = new ClientMachine({
    interfaceName: 'eth0', clientDuid: CLIENT_DUID, clock, random: new ScriptedRandom([0.5]), defaultSpec: SPEC, effects,
    transport: { send: payload => { sent.push(payload) } }, wallClock: () => 1_700_000_000_000 + clock.now(),
    reconfigureAccept: true,
  })
  machine.start(SPEC)
  clock.advance(1000)
  const { decodeMessage } = await import('../../../../src/dhcpv6/index.js')
  const solicit = decodeMessage(sent[0]!)
  t.equal(solicit.type, 'solicit')
  if (solicit.type !== 'solicit') return
  machine.receive(answer('advertise', solicit, { options: [{ kind: 'preference', value: 255 }, iaNa(1, 0, 0, [NA1]), iaPd(2, 0, 0, [['2001:db8:1::', 56, 3000, 4000]])] }), { source: 'fe80::aa' })
  const request = decodeMessage(sent[1]!)
  if (request.type !== 'request') return t.fail('no Request')
  machine.receive(answer('reply', request, {
    options: [
      iaNa(1, 1000, 1600, [NA1]), iaPd(2, 1000, 1600, [['2001:db8:1::', 56, 3000, 4000]]),
      { kind: 'server-unicast', address: addr('2001:db8::1') },
      { kind: 'dns-servers', servers: [addr('2001:db8::53')] },
      { kind: 'authentication', protocol: 3, algorithm: 1, rdm: 0, replayDetection: 9n, info: { format: 'rkap', type: 1, value: new Uint8Array(16).fill(7) } },
    ],
  }), { source: 'fe80::aa' })
  t.equal(machine.state, 'bound')
  await machine.settled()
  await Promise.all(saved)
  const loaded = await store.load('eth0')
  t.equal(loaded.status, 'loaded', 'the store accepts what the machine saved')
  if (loaded.status !== 'loaded') return
  const lease: StoredLease = loaded.value
  t.match(lease, {
    interface: 'eth0', serverDuid: '000300010200000000aa', serverAddress: 'fe80::aa', serverUnicast: '2001:db8::1',
    iaNa: [{ iaid: 1, t1: 1000, t2: 1600, addresses: [{ address: '2001:db8::100', preferredLifetime: 3000, validLifetime: 4000 }] }],
    iaPd: [{ iaid: 2, t1: 1000, t2: 1600, prefixes: [{ prefix: '2001:db8:1::', length: 56, preferredLifetime: 3000, validLifetime: 4000 }] }],
    dnsServers: ['2001:db8::53'], reconfigureKey: '07070707070707070707070707070707', reconfigureReplayDetection: '9',
  })
  // A new daemon loads it 100 s after it was obtained (the bench's wall clock is 1 s behind the first one's Reply).
  const c = bench({ random: new ScriptedRandom([0.5]), defaultSpec: SPEC, storedLease: { ...lease, obtainedAt: lease.obtainedAt - 1000 - 100_000 } })
  t.same(c.machine.status().leases.map(l => [l.kind, l.iaid, l.entries[0]?.value, l.entries[0]?.validLeft]), [['ia-na', 1, '2001:db8::100', 3900], ['ia-pd', 2, '2001:db8:1::/56', 3900]])
  c.machine.onRa({ managed: true, other: false, replayed: true })
  c.clock.advance(500)
  t.equal(c.sentOf('rebind').length, 1, 'with a delegated prefix: Rebind (RFC 8415 18.2.12)')
  c.deliver(leaseReply(c.last().message))
  t.equal(c.machine.state, 'bound')
  // Release removes the file.
  const released = machine.release()
  clock.advance(60_000)
  await released
  t.equal((await store.load('eth0')).status, 'missing')
})

t.test('async effects run one at a time in issue order; a failing one is counted and the rest still run', async t => {
  const log: string[] = []
  const slow = (name: string, ms: number, fail = false) => () => new Promise<void>((resolve, reject) => setTimeout(() => { log.push(name); if (fail) reject(new Error(`${name} failed`)); else resolve() }, ms))
  const b = bench({ random: new ScriptedRandom([0.5]) })
  const effects: ClientEffects = {
    applyAddress: slow('apply', 20), removeAddress: slow('remove', 1), applyDns: slow('dns', 5, true), clearDns: slow('clearDns', 1),
    saveLease: slow('save', 1), removeLease: slow('removeLease', 1), hook: n => slow(`hook ${n.reason}`, 1)(),
  }
  Object.assign((b.machine as unknown as { options: { effects: ClientEffects } }).options, { effects })
  bind(b)
  await b.settle()
  t.same(log, ['apply', 'dns', 'save', 'hook BOUND6'])
  t.equal(b.counter('effect-errors'), 1)
  t.match(b.events.find(e => e.kind === 'effect-error'), { effect: 'applyDns', error: 'dns failed' })
})

t.test('transport failures are counted; the retransmission timer still runs', async t => {
  let calls = 0
  const b = bench({ random: new ScriptedRandom([0.5]), solicitMaxDelayMs: 0 })
  Object.assign((b.machine as unknown as { options: { transport: unknown } }).options, {
    transport: { send: () => { calls++; if (calls === 1) throw new Error('ENETDOWN'); return Promise.reject(new Error('EADDRNOTAVAIL')) } },
  })
  b.machine.start({ mode: 'stateful', iaNa: [1], iaPd: [], dns: false })
  b.clock.advance(1100)
  await new Promise(resolve => setImmediate(resolve))
  t.equal(calls, 2)
  t.equal(b.counter('send-errors'), 2)
})

t.test('one event per message sent and received, for the log line', async t => {
  const b = bench({ random: new ScriptedRandom([0.5]) })
  bind(b)
  const messages = b.events.filter((e): e is Extract<ClientEvent, { kind: 'sent' | 'received' }> => e.kind === 'sent' || e.kind === 'received')
  t.same(messages.map(e => `${e.kind} ${e.type}`), ['sent solicit', 'received advertise', 'sent request', 'received reply'])
  t.match(messages[0], { interface: 'eth0', xid: 0x800000, elapsedCentiseconds: 0, retransmission: false, attempt: 1, destination: 'ff02::1:2', ias: [{ kind: 'ia-na', iaid: 1, values: [] }] })
  t.match(messages[3], { source: 'fe80::aa', accepted: true, ias: [{ kind: 'ia-na', iaid: 1, values: ['2001:db8::100'] }] })
  const states = b.events.filter(e => e.kind === 'state').map(e => e.kind === 'state' && `${e.from}>${e.to}`)
  t.same(states, ['idle>soliciting', 'soliciting>requesting', 'requesting>bound'])
  t.equal(b.counter('sent.solicit'), 1)
  t.equal(b.counter('received.reply'), 1)
})
