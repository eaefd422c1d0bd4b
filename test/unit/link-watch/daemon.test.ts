// The real Daemon with recording fakes of the client and of the link feed: link changes reach the
// client once each (the watch and the ifdown/ifup verbs never both tell it), one log line and one
// counter per change, a link down at start is known before any RA.
import t, { type Test } from 'tap'
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveSettings } from '../../../src/daemon/config.js'
import { Daemon, type LinkFeed } from '../../../src/daemon/daemon.js'
import { formatStatus } from '../../../src/daemon/status-format.js'
import type { LinkChange } from '../../../src/system/link-watch.js'
import { fakePorts } from '../daemon/fakes.js'

const env = { interfaceExists: (name: string) => ['eth0', 'eth1'].includes(name), cwd: '/' }

const change = (ifname: string, up: boolean, extra: Partial<LinkChange> = {}): LinkChange => ({
  ifname, up, collapsed: false,
  operstate: up ? 'UP' : 'LOWERLAYERDOWN', flags: up ? ['UP', 'LOWER_UP', 'RUNNING'] : ['UP'], ...extra,
})

/** The kernel as the link feed shows it: `ip link set` (the verbs' setLink) moves the link, the feed reports the edge. */
class FakeLinkFeed extends EventEmitter implements LinkFeed {
  closed = false
  readonly links = new Map<string, boolean>()
  /** When false, setLink changes nothing the feed reports (no carrier, or a lost message). */
  followsSetLink = true
  startError: Error | undefined
  constructor(initial: Record<string, boolean>) {
    super()
    for (const [ifname, up] of Object.entries(initial)) this.links.set(ifname, up)
  }
  async start(): Promise<Map<string, LinkChange>> {
    if (this.startError) throw this.startError
    return new Map([...this.links].map(([ifname, up]) => [ifname, change(ifname, up)]))
  }
  set(ifname: string, up: boolean, extra: Partial<LinkChange> = {}): void {
    if (this.links.get(ifname) === up) return
    this.links.set(ifname, up)
    // the watcher reports after the kernel's batch: asynchronously
    setImmediate(() => this.emit('change', change(ifname, up, extra)))
  }
  async close(): Promise<void> { this.closed = true }
}

function setup(t: Test, initial: Record<string, boolean> = { eth0: true, eth1: true }) {
  const dir = mkdtempSync(join(tmpdir(), 'ra6dhcp-linkwatch-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const settings = resolveSettings(['eth0', 'eth1'], { stateDir: dir, controlSocket: join(dir, 'ctl.sock') }, env)
  const ports = fakePorts()
  const feed = new FakeLinkFeed(initial)
  ports.linkFeed = feed
  const setLink = ports.setLink.bind(ports)
  ports.setLink = async (ifname, up) => {
    await setLink(ifname, up)
    if (feed.followsSetLink) feed.set(ifname, up, up ? {} : { operstate: 'DOWN', flags: [] })
  }
  const daemon = new Daemon(settings, ports)
  t.teardown(() => daemon.stop('test over'))
  return { ports, feed, daemon }
}

const linkCalls = (calls: string[]) => calls.filter(c => c === 'ifdown' || c === 'ifup')
const tick = () => new Promise(resolve => setImmediate(resolve))
const linkLog = (lines: Record<string, unknown>[]) => lines.filter(l => l.link !== undefined).map(l => `${String(l.interface)}: ${String(l.msg)}`)

t.test('carrier lost and back: the client gets ifdown then ifup, one log line and one count each', async t => {
  const { ports, feed, daemon } = setup(t)
  await daemon.start()
  const [eth0, eth1] = ports.clients
  t.equal(daemon.status().interfaces[0]!.link, 'up')
  t.notOk(daemon.status().interfaces[0]!.linkChangedAt, 'no change yet')
  feed.set('eth0', false)
  await tick()
  t.same(linkCalls(eth0!.calls), ['ifdown'])
  const down = daemon.status()
  t.equal(down.interfaces[0]!.link, 'down', 'status shows the carrier loss')
  t.match(down.interfaces[0]!.linkChangedAt, /^\d{4}-\d\d-\d\dT/, 'and when it happened')
  t.equal(down.interfaces[1]!.link, 'up')
  const text = formatStatus(down)
  t.match(text, /^eth0: \S+ \(link down\)  profile/m, 'ctl status names the down link on its first line')
  t.match(text, /^  link down since \d{4}-/m)
  feed.set('eth0', true)
  await tick()
  t.same(linkCalls(eth0!.calls), ['ifdown', 'ifup'])
  t.equal(daemon.status().interfaces[0]!.link, 'up')
  t.notMatch(formatStatus(daemon.status()), /\(link down/, 'not after the link is back')
  t.same(linkCalls(eth1!.calls), [], 'eth1 untouched')
  t.same(linkLog(ports.logLines), [
    'eth0: link down (operstate LOWERLAYERDOWN, flags UP)',
    'eth0: link up (operstate UP): the client checks its lease (RFC 8415 section 18.2.12)',
  ])
  const status = daemon.status()
  t.equal(status.interfaces[0]!.counters['link.down'], 1)
  t.equal(status.interfaces[0]!.counters['link.up'], 1)
  t.equal(status.interfaces[1]!.counters['link.down'], 0)
  t.equal(status.interfaces[0]!.counters['sent.Solicit'], 1, 'the client\'s own counters are still there')
  t.notOk(status.interfaces[0]!.linkDown, 'linkDown stays the ifdown verb\'s')
})

t.test('a flap reported as a collapsed pair is logged as one', async t => {
  const { ports, feed, daemon } = setup(t)
  await daemon.start()
  feed.emit('change', change('eth0', false, { collapsed: true, operstate: 'UP', flags: ['UP', 'LOWER_UP', 'RUNNING'] }))
  feed.emit('change', change('eth0', true, { collapsed: true }))
  t.same(linkCalls(ports.clients[0]!.calls), ['ifdown', 'ifup'])
  t.same(linkLog(ports.logLines), [
    'eth0: link down (a flap: down and up again within the settling time) (operstate UP, flags UP,LOWER_UP,RUNNING)',
    'eth0: link up (a flap: down and up again within the settling time) (operstate UP): the client checks its lease (RFC 8415 section 18.2.12)',
  ])
  t.equal(ports.logLines.find(l => l.link === 'down')?.collapsed, true)
})

t.test('ctl ifdown / ifup with the watch: the link is set, the client hears it once, from the watch', async t => {
  const { ports, daemon } = setup(t)
  await daemon.start()
  const eth0 = ports.clients[0]!
  const down = await daemon.handleRequest({ argv: ['ifdown', 'eth0'] })
  t.same(ports.links, ['eth0 down'])
  t.same(linkCalls(eth0.calls), ['ifdown'], 'one ifdown: the verb waited for the watch instead of telling the client too')
  t.same(down, { ok: true, verb: 'ifdown', results: [{ interface: 'eth0', state: 'idle' }] })
  t.equal(daemon.status().interfaces[0]!.linkDown, true, 'status shows the ifdown')
  t.match(formatStatus(daemon.status()), /^eth0: \S+ \(link down by ifdown\)/m)
  await daemon.handleRequest({ argv: ['ifup', 'eth0'] })
  t.same(ports.links, ['eth0 down', 'eth0 up'])
  t.same(linkCalls(eth0.calls), ['ifdown', 'ifup'], 'one ifup, so one Confirm')
  t.notOk(daemon.status().interfaces[0]!.linkDown)
  await daemon.handleRequest({ argv: ['ifup', 'eth0'] })
  t.same(linkCalls(eth0.calls), ['ifdown', 'ifup'], 'ifup on a link that is up tells the client nothing')
  t.equal(daemon.status().interfaces[0]!.counters['link.down'], 1, 'the verb\'s change is counted by the watch')
})

t.test('ctl ifup waits for the carrier: the client hears "up" when the watch sees it, not before', async t => {
  const { ports, feed, daemon } = setup(t, { eth0: false, eth1: true })
  await daemon.start()
  const eth0 = ports.clients[0]!
  t.same(linkCalls(eth0.calls), ['ifdown'], 'down at start: the client is told before any RA')
  t.same(linkLog(ports.logLines), ['eth0: link is down at start (operstate LOWERLAYERDOWN): the client waits for it'])
  feed.followsSetLink = false
  const verb = daemon.handleRequest({ argv: ['ifup', 'eth0'] })
  await new Promise(resolve => setTimeout(resolve, 50))
  t.same(linkCalls(eth0.calls), ['ifdown'], 'no ifup while there is no carrier')
  feed.set('eth0', true) // the carrier comes
  await verb
  t.same(linkCalls(eth0.calls), ['ifdown', 'ifup'])
})

t.test('if the watch never sees ifdown, the verb tells the client itself after 2 s (once)', async t => {
  const { ports, feed, daemon } = setup(t)
  await daemon.start()
  feed.followsSetLink = false
  const started = Date.now()
  await daemon.handleRequest({ argv: ['ifdown', 'eth0'] })
  t.ok(Date.now() - started >= 1900, `waited ${Date.now() - started} ms`)
  t.same(linkCalls(ports.clients[0]!.calls), ['ifdown'])
  t.ok(ports.logLines.some(l => l.msg === 'ifdown: the link watch did not see eth0 go down within 2 s: telling the client directly'))
  feed.set('eth0', false) // late: the client already knows
  await tick()
  t.same(linkCalls(ports.clients[0]!.calls), ['ifdown'])
})

t.test('a link watch that cannot start: logged, and the verbs tell the client directly', async t => {
  const { ports, feed, daemon } = setup(t)
  feed.startError = new Error('socket: EPERM')
  await daemon.start()
  t.ok(ports.logLines.some(l => /^link watch could not start: socket: EPERM/.test(String(l.msg))))
  t.ok(feed.closed)
  feed.followsSetLink = false
  await daemon.handleRequest({ argv: ['ifdown', 'eth0'] })
  t.match(daemon.status().interfaces[0], { link: 'down', linkChangedAt: /^\d{4}-/ }, 'status shows the verb\'s change without the watch too')
  await daemon.handleRequest({ argv: ['ifup', 'eth0'] })
  t.same(linkCalls(ports.clients[0]!.calls), ['ifdown', 'ifup'])
  t.equal(daemon.status().interfaces[0]!.link, 'up')
})

t.test('stopping closes the link feed; changes after the stop are ignored', async t => {
  const { ports, feed, daemon } = setup(t)
  await daemon.start()
  await daemon.stop('test')
  t.ok(feed.closed)
  feed.emit('change', change('eth0', false))
  t.same(linkCalls(ports.clients[0]!.calls), [])
})
