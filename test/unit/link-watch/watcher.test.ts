// LinkWatcher on a fake netlink socket (the real channel, decoder and edge detection behind it):
// it subscribes to RTNLGRP_LINK, reads the initial state with an RTM_GETLINK dump, reports only
// edges of the watched interfaces, ignores bridge-port messages, counts malformed ones.
import t from 'tap'
import { LinkWatcher, type LinkChange } from '../../../src/system/link-watch.js'
import { fakeSocketFactory, seqOf, typeOf } from '../ra/fixtures/helpers.js'
import { AF_BRIDGE, RTM_DELLINK, adminDown, done, linkMessage, noCarrier, up } from './fixtures/links.js'

function setup(options: { interfaces?: string[]; dump?: (seq: number) => Buffer[] } = {}) {
  const { factory, sockets } = fakeSocketFactory()
  const watcher = new LinkWatcher({ interfaces: options.interfaces ?? ['eth0'], debounceMs: 0, openSocket: factory })
  const changes: LinkChange[] = []
  const warnings: string[] = []
  watcher.on('change', c => changes.push(c))
  watcher.on('warning', w => warnings.push(w))
  const dump = options.dump ?? (seq => [Buffer.concat([up('lo', 1, { seq }), up('eth0', 2, { seq }), up('eth1', 3, { seq }), done(seq)])])
  const started = watcher.start()
  const socket = sockets[0]!
  socket.onSend = message => dump(seqOf(message))
  // the request went out before onSend was set: answer it now
  const request = socket.sent[0]!
  socket.deliver(dump(seqOf(request)))
  t.teardown(() => watcher.close())
  return { watcher, socket, started, changes, warnings, request }
}

t.test('subscribes to RTNLGRP_LINK and dumps RTM_GETLINK at start; the initial state is no change', async t => {
  const { started, socket, changes, request } = setup()
  t.same(socket.options.groups, [1], 'RTNLGRP_LINK')
  t.equal(socket.options.protocol, 0, 'NETLINK_ROUTE')
  t.equal(typeOf(request), 18, 'RTM_GETLINK')
  t.equal(request.readUInt16LE(6), 0x301, 'NLM_F_REQUEST|NLM_F_DUMP')
  const states = await started
  t.same([...states.values()], [{ ifname: 'eth0', up: true, collapsed: false, operstate: 'UP', flags: ['UP', 'LOWER_UP', 'RUNNING'] }])
  t.same(changes, [])
})

t.test('carrier lost then back: one down, one up, with the kernel\'s operstate and flags', async t => {
  const { started, socket, changes, watcher } = setup()
  await started
  socket.deliver([noCarrier('eth0', 2)])
  t.same(changes, [{ ifname: 'eth0', up: false, collapsed: false, operstate: 'LOWERLAYERDOWN', flags: ['UP'] }])
  t.equal(watcher.linkUp('eth0'), false)
  socket.deliver([noCarrier('eth0', 2), noCarrier('eth0', 2)])
  t.equal(changes.length, 1, 'repeats of the down state are nothing')
  socket.deliver([up('eth0', 2)])
  t.same(changes.slice(1), [{ ifname: 'eth0', up: true, collapsed: false, operstate: 'UP', flags: ['UP', 'LOWER_UP', 'RUNNING'] }])
  t.equal(watcher.counters.messages, 7, 'three dump replies (lo, eth0, eth1) and four events decoded')
})

t.test('a flap in one batch is one collapsed down/up pair; other interfaces and bridge-port messages are ignored', async t => {
  const { started, socket, changes, watcher } = setup()
  await started
  socket.deliver([noCarrier('eth1', 3), noCarrier('eth0', 2), up('eth0', 2)])
  t.same(changes.map(c => `${c.ifname} ${c.up ? 'up' : 'down'}${c.collapsed ? ' (flap)' : ''}`), ['eth0 down (flap)', 'eth0 up (flap)'])
  changes.length = 0
  // A bridge port leaving its bridge: RTM_DELLINK of family AF_BRIDGE. The link itself stays.
  socket.deliver([linkMessage({ type: RTM_DELLINK, family: AF_BRIDGE, ifname: 'eth0', ifindex: 2, flags: 0 })])
  t.same(changes, [], 'AF_BRIDGE messages are not about the link')
  t.equal(watcher.counters.otherFamily, 1)
})

t.test('administratively down, deleted, and a message without a name (ifindex learnt earlier)', async t => {
  const { started, socket, changes } = setup()
  await started
  socket.deliver([adminDown('eth0', 2)])
  socket.deliver([linkMessage({ ifindex: 2, flags: 0x11043 })]) // no IFLA_IFNAME: eth0 by its ifindex
  socket.deliver([linkMessage({ type: RTM_DELLINK, ifname: 'eth0', ifindex: 2, flags: 0x1002 })])
  t.same(changes, [
    { ifname: 'eth0', up: false, collapsed: false, operstate: 'DOWN', flags: [] },
    { ifname: 'eth0', up: true, collapsed: false, operstate: 'none', flags: ['UP', 'LOWER_UP', 'RUNNING'] },
    { ifname: 'eth0', up: false, collapsed: false, operstate: 'deleted', flags: [] },
  ])
})

t.test('an interface missing from the dump, or down in it, starts down', async t => {
  const { started } = setup({
    interfaces: ['eth0', 'eth9'],
    dump: seq => [Buffer.concat([noCarrier('eth0', 2, { seq }), done(seq)])],
  })
  const states = await started
  t.same([...states.values()].map(s => [s.ifname, s.up, s.operstate]), [['eth0', false, 'LOWERLAYERDOWN'], ['eth9', false, 'none']])
})

t.test('a malformed message is dropped and counted, and the watch goes on', async t => {
  const { started, socket, changes, warnings, watcher } = setup()
  await started
  const broken = linkMessage({ ifname: 'eth0', ifindex: 2, flags: 0x1003 })
  broken.writeUInt16LE(0x40, 16 + 16) // the first attribute now claims 64 bytes
  socket.deliver([broken])
  t.equal(warnings.length, 1)
  t.match(warnings[0], /^link watch: malformed rtnetlink message dropped: attribute at offset 0 has length 64/)
  t.equal(watcher.counters.malformed, 1)
  socket.deliver([noCarrier('eth0', 2)])
  t.same(changes.map(c => c.up), [false], 'the next message still counts')
})

t.test('ENOBUFS: a warning, then the links are read again; a flap lost in the overrun shows in the carrier-down count', async t => {
  const { started, socket, changes, warnings, watcher } = setup({
    dump: seq => [Buffer.concat([up('eth0', 2, { seq, carrierDownCount: 1 }), done(seq)])],
  })
  await started
  socket.deliver([], { overrun: true })
  t.same(warnings, ['link watch: the kernel dropped link messages (ENOBUFS); reading every link again'])
  t.equal(watcher.counters.overruns, 1)
  t.equal(socket.sent.length, 2, 'a second dump was sent once the queue drained')
  t.equal(typeOf(socket.sent[1]!), 18)
  // the lost messages: eth0 went down and up (the count is now 2); the new dump says so
  socket.onSend = () => []
  const seq = seqOf(socket.sent[1]!)
  socket.deliver([Buffer.concat([up('eth0', 2, { seq, carrierDownCount: 2 }), done(seq)])])
  t.same(changes.map(c => `${c.up ? 'up' : 'down'}${c.collapsed ? ' (flap)' : ''}`), ['down (flap)', 'up (flap)'])
})
