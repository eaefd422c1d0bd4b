// RaMonitor over a fake socket: real captured rtnetlink bytes and header-built ra6mon messages go
// through the whole TypeScript stack (channel, source, monitor); only the syscalls are replaced.
import t from 'tap'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RaMonitor, RTNETLINK_FALLBACK_WARNING } from '../../../src/ra/monitor.js'
import { MODULE_NOT_LOADED, RaSourceError } from '../../../src/ra/errors.js'
import type { RaEvent } from '../../../src/ra/events.js'
import { fakeSocketFactory, nlack, ndPrefix, ndRdnss, ra6monEvent, seqOf, typeOf, nlmsg } from './fixtures/helpers.js'

const fixture = JSON.parse(readFileSync(new URL('./fixtures/rtnetlink-radvd.json', import.meta.url), 'utf8')) as {
  dumpSeq: number; datagrams: string[]
}

function fakeSysfs(protocol: number | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'ra6-sysfs-'))
  if (protocol !== undefined) {
    mkdirSync(join(dir, 'parameters'))
    writeFileSync(join(dir, 'parameters/protocol'), `${protocol}\n`)
  }
  return dir
}


t.test('rtnetlink: a captured radvd RA becomes one event with flags, prefix, RDNSS and DNSSL', async t => {
  const { factory, sockets } = fakeSocketFactory()
  const [dump, ...live] = fixture.datagrams.map(h => Buffer.from(h, 'hex'))
  const monitor = new RaMonitor({ source: 'rtnetlink', openSocket: factory })
  const events: RaEvent[] = []
  monitor.on('ra', e => events.push(e))
  const started = monitor.start()
  const socket = sockets[0]!
  t.same(socket.options.groups, [12, 20], 'joins RTNLGRP_IPV6_IFINFO and RTNLGRP_ND_USEROPT')
  t.equal(typeOf(socket.sent[0]!), 18, 'asks for an RTM_GETLINK dump')
  // The captured dump answered seq 7; replay it under the sequence number this socket chose.
  socket.deliver(dump!.readUInt32LE(8) === fixture.dumpSeq ? splitDump(dump!, seqOf(socket.sent[0]!)) : [])
  await started
  t.same(events, [], 'before the RA, no interface had RA flags: nothing replayed')
  socket.deliver(live)
  await new Promise(r => setTimeout(r, 30))
  t.equal(events.length, 1, 'the three option messages and the link update are one RA')
  const e = events[0]!
  t.match(e, { source: 'rtnetlink', ifname: 'eth0', flags: { managed: true, other: true }, replayed: false })
  t.match(e.router, /^fe80::/)
  t.equal(e.routerLifetime, undefined, 'rtnetlink cannot know the router lifetime: undefined, not 0')
  t.equal(e.curHopLimit, undefined)
  t.equal(e.kernelTimeNs, undefined)
  t.equal(e.flags.preference, undefined)
  t.same(e.options, [
    { kind: 'prefixInformation', prefix: '2001:db8:1::', prefixLength: 64, onLink: true, autonomous: true, routerAddress: false, validLifetime: 86400, preferredLifetime: 14400 },
    { kind: 'rdnss', lifetime: 600, servers: ['2001:db8::53', '2001:db8::54'] },
    { kind: 'dnssl', lifetime: 600, domains: ['example.com', 'lab.example.org'] },
  ])
  await monitor.close()
  t.ok(socket.closed)
})

/** Rewrites the sequence number of every message in a dump datagram. */
function splitDump(datagram: Buffer, seq: number): Buffer[] {
  const out = Buffer.from(datagram)
  for (let off = 0; off + 16 <= out.length;) {
    const len = out.readUInt32LE(off)
    out.writeUInt32LE(seq, off + 8)
    off += (len + 3) & ~3
  }
  return [out]
}

t.test('rtnetlink: interface filter, a replayed flag state, and an overrun resynchronises', async t => {
  const { factory, sockets } = fakeSocketFactory()
  const [dump, ...live] = fixture.datagrams.map(h => Buffer.from(h, 'hex'))
  // The link update at the end of the capture carries M/O set: make it the dump's answer.
  const flagged = live.at(-1)!
  const monitor = new RaMonitor({ source: 'rtnetlink', openSocket: factory, interfaces: ['eth0'], ifindexOf: () => 2 })
  const events: RaEvent[] = []
  monitor.on('ra', e => events.push(e))
  let overruns = 0
  monitor.on('overrun', () => overruns++)
  const recovered = new Promise(resolve => monitor.once('recovered', resolve))
  const started = monitor.start()
  const socket = sockets[0]!
  socket.onSend = message => splitDump(Buffer.concat([flagged, nlmsg(3, 2, 0, Buffer.alloc(4))]), seqOf(message))
  socket.deliver(splitDump(Buffer.concat([flagged, nlmsg(3, 2, 0, Buffer.alloc(4))]), seqOf(socket.sent[0]!)))
  await started
  t.equal(events.length, 1, 'M/O already set at start: one replayed event')
  t.match(events[0], { replayed: true, ifname: 'eth0', flags: { managed: true, other: true }, options: [] })
  t.equal(events[0]!.router, undefined, 'the flags alone do not name the router')
  socket.deliver([], { overrun: true })
  await recovered
  t.equal(overruns, 1)
  t.equal(monitor.stats.recoveries, 1)
  t.equal(typeOf(socket.sent[1]!), 18, 'the overrun asks for the flags again')
  t.equal(events.length, 2)
  t.ok(events[1]!.replayed)
  void dump
  await monitor.close()
})

t.test('ra6mon: register with filter, replay before the ack, then live events', async t => {
  const { factory, sockets } = fakeSocketFactory()
  const sysfs = fakeSysfs(29)
  t.teardown(() => rmSync(sysfs, { recursive: true, force: true }))
  const monitor = new RaMonitor({ sysfsModuleDir: sysfs, openSocket: factory, interfaces: ['eth0'], ifindexOf: () => 5 })
  const events: RaEvent[] = []
  monitor.on('ra', e => events.push(e))
  let warnings = 0
  monitor.on('warning', () => warnings++)
  const started = monitor.start()
  const socket = sockets[0]!
  t.equal(socket.options.protocol, 29, 'protocol read from the module parameter')
  const register = socket.sent[0]!
  t.equal(typeOf(register), 0x10)
  t.equal(register.readUInt16LE(6), 0x05, 'NLM_F_REQUEST | NLM_F_ACK')
  t.equal(register.readUInt32LE(16 + 4 + 4), 5, 'filter holds ifindex 5')
  let resolved = false
  void started.then(() => { resolved = true })
  socket.deliver([ra6monEvent({ ifindex: 5, seq: 3n, replayed: true, flags: 0x80, options: ndPrefix('2001:db8::', 64, 0xc0, 100, 50) }, seqOf(register))])
  await new Promise(r => setImmediate(r))
  t.notOk(resolved, 'start() waits for the ack')
  t.equal(events.length, 1, 'the replayed event is delivered before start() resolves')
  socket.deliver([nlack(seqOf(register), 0)])
  await started
  t.equal(monitor.source, 'ra6mon')
  t.equal(warnings, 0)
  socket.deliver([ra6monEvent({ ifindex: 5, seq: 4n, flags: 0x40, options: ndRdnss(10, ['2001:db8::1']) })])
  await new Promise(r => setImmediate(r))
  t.equal(events.length, 2)
  t.match(events[0], { replayed: true, seq: 3n, flags: { managed: true, other: false } })
  t.match(events[1], { replayed: false, seq: 4n, flags: { managed: false, other: true } })
  await monitor.close()
})

t.test('ra6mon: an overrun re-registers; replays of what was already delivered are not repeated', async t => {
  const { factory, sockets } = fakeSocketFactory()
  const monitor = new RaMonitor({ source: 'ra6mon', protocol: 31, openSocket: factory })
  const events: RaEvent[] = []
  monitor.on('ra', e => events.push(e))
  const started = monitor.start()
  const socket = sockets[0]!
  socket.deliver([nlack(seqOf(socket.sent[0]!), 0)])
  await started
  socket.deliver([ra6monEvent({ ifindex: 2, seq: 10n }), ra6monEvent({ ifindex: 3, seq: 11n })])
  // The queue overflowed: seq 12 on ifindex 2 was lost. Re-registering replays the latest per interface.
  socket.onSend = message => [
    ra6monEvent({ ifindex: 2, seq: 12n, replayed: true }, seqOf(message)),
    ra6monEvent({ ifindex: 3, seq: 11n, replayed: true }, seqOf(message)),
    nlack(seqOf(message), 0),
  ]
  const recovered = new Promise(resolve => monitor.once('recovered', resolve))
  const registers = () => socket.sent.filter(m => typeOf(m) === 0x10).length
  socket.deliver([], { overrun: true, more: true })
  t.equal(registers(), 1, 'no re-registration while the queue is still full: its answer would be lost too')
  socket.deliver([]) // the queue is drained
  await recovered
  t.equal(registers(), 2, 'registered once more')
  t.same(events.map(e => [e.ifindex, e.seq, e.replayed]), [[2, 10n, false], [3, 11n, false], [2, 12n, true]])
  t.match(monitor.stats, { overruns: 1, recoveries: 1, duplicates: 1, events: 3 })
  await monitor.close()
})

t.test('ra6mon: EPERM on register is an actionable error with errno, code, syscall', async t => {
  const { factory, sockets } = fakeSocketFactory()
  const monitor = new RaMonitor({ source: 'ra6mon', protocol: 31, openSocket: factory })
  const started = monitor.start()
  const socket = sockets[0]!
  socket.deliver([nlack(seqOf(socket.sent[0]!), -1, 'ra6mon: registering needs CAP_NET_ADMIN in the namespace')])
  const err = await started.then(() => undefined, (e: unknown) => e) as RaSourceError
  t.type(err, RaSourceError)
  t.match(err.message, /^registering needs CAP_NET_ADMIN/)
  t.match(err.message, /kernel: ra6mon: registering needs CAP_NET_ADMIN/)
  t.match(err, { errno: -1, code: 'EPERM', syscall: 'ra6mon register' })
  t.ok(socket.closed, 'the socket is closed after a failed start')
  t.ok(monitor.closed)
})

t.test('malformed messages are dropped and counted; the monitor keeps going', async t => {
  const { factory, sockets } = fakeSocketFactory()
  const monitor = new RaMonitor({ source: 'ra6mon', protocol: 31, openSocket: factory })
  const events: RaEvent[] = []
  const reasons: string[] = []
  monitor.on('ra', e => events.push(e))
  monitor.on('malformed', r => reasons.push(r))
  const started = monitor.start()
  const socket = sockets[0]!
  socket.deliver([nlack(seqOf(socket.sent[0]!), 0)])
  await started
  const truncated = ra6monEvent({ seq: 1n }).subarray(0, 40)
  const badLength = Buffer.from(ra6monEvent({ seq: 2n })); badLength.writeUInt16LE(400, 16)
  const wrongVersion = ra6monEvent({ seq: 3n, abiVersion: 9 })
  socket.deliver([truncated, badLength, wrongVersion, ra6monEvent({ seq: 4n })], { truncated: 1 })
  await new Promise(r => setImmediate(r))
  t.same(events.map(e => e.seq), [4n], 'the good event after the bad ones is delivered')
  t.equal(monitor.stats.malformed, 4)
  t.equal(reasons.length, 4)
  await monitor.close()
})

t.test('auto: ra6mon when the module is there; otherwise rtnetlink with exactly one warning', async t => {
  const absent = join(tmpdir(), `ra6-no-module-${process.pid}`)
  const { factory, sockets } = fakeSocketFactory()
  const monitor = new RaMonitor({ sysfsModuleDir: absent, openSocket: factory })
  const warnings: string[] = []
  monitor.on('warning', w => warnings.push(w))
  const started = monitor.start()
  sockets[0]!.deliver(splitDump(nlmsg(3, 2, 0, Buffer.alloc(4)), seqOf(sockets[0]!.sent[0]!)))
  await started
  t.equal(monitor.source, 'rtnetlink')
  t.same(warnings, [RTNETLINK_FALLBACK_WARNING])
  await monitor.close()

  const explicit = new RaMonitor({ source: 'ra6mon', sysfsModuleDir: absent, openSocket: factory })
  await t.rejects(explicit.start(), { message: new RegExp(`^${MODULE_NOT_LOADED.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), code: 'ENOENT' })
})

t.test('async iteration yields events and ends on close', async t => {
  const { factory, sockets } = fakeSocketFactory()
  const monitor = new RaMonitor({ source: 'ra6mon', protocol: 31, openSocket: factory })
  const iterator = monitor[Symbol.asyncIterator]()
  const started = monitor.start()
  const socket = sockets[0]!
  socket.deliver([ra6monEvent({ seq: 1n, replayed: true }, seqOf(socket.sent[0]!)), nlack(seqOf(socket.sent[0]!), 0)])
  await started
  setTimeout(() => socket.deliver([ra6monEvent({ seq: 2n })]), 5)
  const first = await iterator.next()
  const second = await iterator.next()
  t.same([first.value?.seq, second.value?.seq], [1n, 2n])
  setTimeout(() => void monitor.close(), 5)
  t.same(await iterator.next(), { value: undefined, done: true })
  const seen: bigint[] = []
  for await (const e of monitor) seen.push(e.seq!)
  t.same(seen, [], 'iterating a closed monitor ends at once')
})

t.test('ref/unref reach the socket', async t => {
  const { factory, sockets } = fakeSocketFactory()
  const monitor = new RaMonitor({ source: 'ra6mon', protocol: 31, openSocket: factory })
  const started = monitor.start()
  sockets[0]!.deliver([nlack(seqOf(sockets[0]!.sent[0]!), 0)])
  await started
  monitor.unref()
  t.equal(sockets[0]!.referenced, false)
  monitor.ref()
  t.equal(sockets[0]!.referenced, true)
  await monitor.close()
})

t.test('close() during start, from a replayed event, ends start() quietly', async t => {
  const { factory, sockets } = fakeSocketFactory()
  const monitor = new RaMonitor({ source: 'ra6mon', protocol: 31, openSocket: factory })
  monitor.once('ra', () => void monitor.close())
  const started = monitor.start()
  const socket = sockets[0]!
  socket.deliver([ra6monEvent({ seq: 1n, replayed: true }, seqOf(socket.sent[0]!))])
  await t.resolves(started)
  t.ok(monitor.closed)
  t.ok(socket.closed)
})

t.test('ra6mon: an overrun while re-registering cancels that attempt and tries again once drained', async t => {
  const { factory, sockets } = fakeSocketFactory()
  const monitor = new RaMonitor({ source: 'ra6mon', protocol: 31, openSocket: factory })
  const started = monitor.start()
  const socket = sockets[0]!
  socket.deliver([nlack(seqOf(socket.sent[0]!), 0)])
  await started
  let recoveredCount = 0
  monitor.on('recovered', () => recoveredCount++)
  socket.deliver([], { overrun: true }) // drained at once: re-register (no answer yet)
  t.equal(socket.sent.length, 2)
  socket.deliver([], { overrun: true }) // its answer was lost in this overrun
  t.equal(socket.sent.length, 3, 'a fresh registration')
  const tick = () => new Promise(r => setImmediate(r))
  socket.deliver([nlack(seqOf(socket.sent[1]!), 0)]) // a late ack for the cancelled attempt: ignored
  await tick()
  t.equal(recoveredCount, 0)
  socket.deliver([nlack(seqOf(socket.sent[2]!), 0)])
  await tick()
  t.equal(recoveredCount, 1)
  t.match(monitor.stats, { overruns: 2, recoveries: 1 })
  t.notOk(monitor.closed, 'no error: the monitor keeps running')
  await monitor.close()
})

t.test('ra6mon: a registration captured in the VM (replay of radvd\'s RA, then the ack)', async t => {
  const captured = JSON.parse(readFileSync(new URL('./fixtures/ra6mon-radvd.json', import.meta.url), 'utf8')) as {
    registerSeq: number; datagrams: string[]
  }
  const { factory, sockets } = fakeSocketFactory()
  const monitor = new RaMonitor({ source: 'ra6mon', protocol: 31, openSocket: factory })
  const events: RaEvent[] = []
  monitor.on('ra', e => events.push(e))
  const started = monitor.start()
  const socket = sockets[0]!
  // The capture answered seq 7: renumber it to the sequence number this monitor chose.
  const seq = seqOf(socket.sent[0]!)
  socket.deliver(captured.datagrams.map(h => {
    const d = splitDump(Buffer.from(h, 'hex'), seq)[0]!
    if (d.readUInt16LE(4) === 2) d.writeUInt32LE(seq, 16 + 4 + 8) // the ack names the request in its echoed header
    return d
  }))
  await started
  t.equal(events.length, 1)
  t.match(events[0], {
    source: 'ra6mon', ifname: 'eth0', replayed: true, destination: 'ff02::1', curHopLimit: 64, routerLifetime: 1800,
    reachableTime: 0, retransTimer: 0, clock: 1, seq: 1n,
    flags: { managed: true, other: true, homeAgent: false, preference: 'high', proxy: false },
  })
  t.match(events[0]!.router, /^fe80::/)
  t.same(events[0]!.options.map(o => o.kind), ['prefixInformation', 'rdnss', 'dnssl', 'sourceLinkLayerAddress'])
  t.match(events[0]!.options[0], { prefix: '2001:db8:1::', prefixLength: 64, validLifetime: 86400, preferredLifetime: 14400 })
  t.same(events[0]!.options[1], { kind: 'rdnss', lifetime: 600, servers: ['2001:db8::53'] })
  t.same(events[0]!.options[2], { kind: 'dnssl', lifetime: 600, domains: ['example.com'] })
  t.equal(monitor.stats.malformed, 0)
  await monitor.close()
})
