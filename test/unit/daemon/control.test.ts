// The control socket for real (a unix socket in a temp dir) in front of the real Daemon, with a
// recording fake of the per-interface client.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveSettings, type DaemonSettings, type RunFlags } from '../../../src/daemon/config.js'
import { SocketInUseError } from '../../../src/daemon/control-server.js'
import { Daemon } from '../../../src/daemon/daemon.js'
import { sendControlRequest, type ControlResponse } from '../../../src/daemon/protocol.js'
import { formatResponse } from '../../../src/daemon/status-format.js'
import { runCtl } from '../../../src/cli/commands/ctl.js'
import { fakePorts } from './fakes.js'

const env = { interfaceExists: (name: string) => ['eth0', 'eth1'].includes(name), cwd: '/' }

function setup(t: Test, flags: RunFlags = {}, replay = true) {
  const dir = mkdtempSync(join(tmpdir(), 'ra6dhcp-ctl-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const socket = join(dir, 'run', 'ra6dhcp.sock')
  const settings = resolveSettings(['eth0', 'eth1'], { stateDir: dir, controlSocket: socket, ...flags }, env)
  const ports = fakePorts({ replay: replay ? [{ ifname: 'eth0', flags: { managed: true, other: false }, replayed: true, router: 'fe80::1' }] : [] })
  const daemon = new Daemon(settings, ports)
  t.teardown(() => daemon.stop('test over'))
  return { dir, socket, settings, ports, daemon }
}

/** Sends raw bytes and collects the response lines until the daemon closes or `lines` arrived. */
function rawExchange(socket: string, payload: string, lines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const conn = createConnection({ path: socket })
    let buffer = ''
    const done = () => { conn.destroy(); resolve(buffer.split('\n').filter(l => l !== '')) }
    conn.setEncoding('utf8')
    conn.on('connect', () => conn.write(payload))
    conn.on('data', (chunk: string) => { buffer += chunk; if (buffer.split('\n').length > lines) done() })
    conn.on('close', done)
    conn.on('error', reject)
  })
}

async function request(socket: string, ...argv: string[]): Promise<ControlResponse> {
  return sendControlRequest(socket, { argv })
}

t.test('the socket is 0600 in a created directory; replayed RAs reach the client; RS only where no RA was seen', async t => {
  const { socket, ports, daemon } = setup(t)
  await daemon.start()
  t.equal(statSync(socket).mode & 0o777, 0o600)
  t.ok(statSync(join(socket, '..')).isDirectory())
  const [eth0, eth1] = ports.clients
  t.same(eth0!.calls, ['onRa M=1 O=0 replayed'])
  t.same(eth1!.calls, [])
  t.same(ports.solicited, ['eth1'], 'a Router Solicitation goes out on the interface with no RA state')
  t.same(eth0!.context.defaultSpec, { mode: 'stateful', iaNa: [100], iaPd: [], dns: true })
  ports.raFeed.emit('ra', { ifname: 'eth1', flags: { managed: false, other: true }, replayed: false })
  ports.raFeed.emit('ra', { ifname: 'wlan0', flags: { managed: true, other: true }, replayed: false })
  t.same(eth1!.calls, ['onRa M=0 O=1'], 'RAs go to their own interface only')
  t.ok(ports.logLines.some(l => l.msg === 'RA accepted by the kernel' && l.interface === 'eth1' && l.O === true))
})

t.test('status: JSON with leases, counters, RA source; the human table', async t => {
  const { socket, daemon } = setup(t)
  await daemon.start()
  const response = await request(socket, 'status')
  if (!response.ok || response.verb !== 'status') return t.fail(`status failed: ${JSON.stringify(response)}`)
  const s = response.status
  t.equal(s.pid, process.pid)
  t.equal(s.raSource, 'ra6mon')
  t.equal(s.controlSocket, socket)
  t.same(s.interfaces.map(i => [i.interface, i.state, i.raCount, i.onRa]), [['eth0', 'idle', 1, 'auto'], ['eth1', 'idle', 0, 'auto']])
  t.match(s.interfaces[0]!.lastRa, { managed: true, other: false, replayed: true, router: 'fe80::1' })
  t.same(s.interfaces[0]!.leases[0]!.entries[0], { value: '2001:db8::10', preferredLifetime: 200, validLifetime: 300, preferredLeft: 150, validLeft: 250 })
  const text = formatResponse(response)
  t.match(text, /^ra6dhcp 0\.0\.0-test, pid \d+, up \d+s, RA source ra6mon\n/)
  t.match(text, /\neth0: idle  profile rfc8415  on-ra auto\n/)
  t.match(text, /\n  IA     IAID  T1   T2   ADDRESS\/PREFIX  PREFERRED LEFT  VALID LEFT\n  IA_NA  1     100  160  2001:db8::10    2m30s of 3m20s  4m10s of 5m00s\n/)
  t.match(text, /\n  DNS 2001:db8::53\n  search example\.test\n  last RA \S+ M=1 O=0 from fe80::1 \(replayed\); 1 RA\(s\) seen\n  counters sent\.Solicit=1\n/)
  t.match(text, /\neth1: idle .*\n(.*\n)*  no RA seen yet\n  counters sent\.Solicit=1\n$/)
  const one = await sendControlRequest(socket, { argv: ['status'], interface: 'eth1' })
  t.same(one.ok && one.verb === 'status' && one.status.interfaces.map(i => i.interface), ['eth1'])
})

t.test('the Ready Logo verbs reach the client (and ifdown/ifup the link)', async t => {
  const { socket, ports, daemon } = setup(t)
  await daemon.start()
  const [eth0, eth1] = ports.clients
  eth0!.calls.length = 0
  const started = await request(socket, 'start', 'eth0', 'iana', 'iaid=1', 'dns')
  t.same(started, { ok: true, verb: 'start', results: [{ interface: 'eth0', spec: { mode: 'stateful', iaNa: [1], iaPd: [], dns: true }, state: 'soliciting' }] })
  t.same(formatResponse(started), 'eth0: start (iana iaid=1 dns) -> soliciting\n')
  await request(socket, 'start', 'inforeq')
  t.same(eth1!.calls, ['start {"mode":"stateless","iaNa":[],"iaPd":[],"dns":false}'])
  for (const verb of ['release', 'restart', 'ifdown', 'ifup', 'stop']) {
    const r = await sendControlRequest(socket, { argv: [verb], interface: 'eth0' })
    t.equal(r.ok, true, verb)
  }
  t.same(eth0!.calls, [
    'start {"mode":"stateful","iaNa":[1],"iaPd":[],"dns":true}',
    'start {"mode":"stateless","iaNa":[],"iaPd":[],"dns":false}',
    'release', 'restart', 'ifdown', 'ifup', 'stop',
  ])
  t.same(ports.links, ['eth0 down', 'eth0 up'])
  const status = await request(socket, 'status')
  t.same(status.ok && status.verb === 'status' && status.status.interfaces.map(i => i.state), ['stopped', 'information-requesting'])
})

t.test('bad requests get an error that names the fix; the connection and daemon carry on', async t => {
  const { socket, daemon } = setup(t)
  await daemon.start()
  t.same(await request(socket, 'start', 'iana', 'iaid=x'), { ok: false, error: "'iaid=x': iaid must be a whole number from 0 to 4294967295, e.g. iaid=1" })
  t.same(await request(socket, 'reboot'), { ok: false, error: "unknown verb 'reboot': use one of start, stop, restart, release, ifdown, ifup, status" })
  const lines = await rawExchange(socket, '{"argv": [1]}\nstart eth1 inforeq dns\n{not json\n', 3)
  t.same(JSON.parse(lines[0]!), { ok: false, error: 'request must be {"argv": [words...], "interface"?: "IF"}, e.g. {"argv": ["start", "iana"]}' })
  t.same(JSON.parse(lines[1]!), { ok: true, verb: 'start', results: [{ interface: 'eth1', spec: { mode: 'stateless', iaNa: [], iaPd: [], dns: true }, state: 'information-requesting' }] }, 'a plain text line works')
  t.match(JSON.parse(lines[2]!), { ok: false, error: /^request is not valid JSON \(.*\): send \{"argv": \["status"\]\} or a plain line such as "status"$/ })
  const big = await rawExchange(socket, 'x'.repeat(70 * 1024), 1)
  t.same(JSON.parse(big[0]!), { ok: false, error: 'request longer than 65536 bytes: send one line of JSON per request' })
  t.equal((await request(socket, 'status')).ok, true, 'still answering')
})

t.test('ra6dhcp ctl: output and exit codes', async t => {
  const { socket, daemon } = setup(t)
  await daemon.start()
  const out: string[] = []
  const err: string[] = []
  t.equal(await runCtl(['start', 'iana', 'iaid=7'], { socket, interface: 'eth0' }, s => out.push(s), s => err.push(s)), 0)
  t.same(out, ['eth0: start (iana iaid=7) -> soliciting\n'])
  t.equal(await runCtl(['status'], { socket, json: true }, s => out.push(s), s => err.push(s)), 0)
  t.equal(JSON.parse(out[1]!).status.interfaces.length, 2)
  t.equal(await runCtl(['start', 'bogus'], { socket }, s => out.push(s), s => err.push(s)), 2)
  t.same(err, ["ra6dhcp: 'bogus' is neither a start word (iana, inforeq, prefix, iaid=N, len=L, dns) nor an interface of this daemon (eth0, eth1): start [IF] [iana [iaid=N] | inforeq | prefix [iaid=N] [len=L]]... [dns]\n"])
  const missing = join(socket, '..', 'none.sock')
  t.equal(await runCtl(['status'], { socket: missing }, s => out.push(s), s => err.push(s)), 1)
  t.equal(err[1], `ra6dhcp: no daemon at ${missing}: start it with \`ra6dhcp run IF\` (or give --socket PATH of a running one)\n`)
})

t.test('one daemon per socket; a stale socket is replaced, a live one never', async t => {
  const { dir, socket, settings, daemon } = setup(t)
  await daemon.start()
  const second = new Daemon(settings, fakePorts())
  await t.rejects(second.start(), new SocketInUseError(`another ra6dhcp daemon answers on ${socket}: stop it first (ra6dhcp ctl stop does not end it; send it SIGTERM), or give this one its own --control-socket PATH`))
  t.equal((await request(socket, 'status')).ok, true, 'the first daemon still answers')

  // A socket file left by a daemon killed with SIGKILL.
  const stale = join(dir, 'stale.sock')
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`])
  await new Promise(resolve => child.on('exit', resolve))
  t.ok(statSync(stale).isSocket(), 'the dead process left its socket file')
  const revived = new Daemon({ ...settings, controlSocket: stale } as DaemonSettings, fakePorts())
  await revived.start()
  t.equal((await sendControlRequest(stale, { argv: ['status'] })).ok, true, 'the new daemon took over the stale socket')
  await revived.stop('test')
  t.notOk(existsSync(stale), 'its socket is removed on stop')

  const notSocket = join(dir, 'file')
  writeFileSync(notSocket, 'precious')
  await t.rejects(new Daemon({ ...settings, controlSocket: notSocket } as DaemonSettings, fakePorts()).start(),
    new SocketInUseError(`${notSocket} exists and is not a socket: remove it yourself or give --control-socket another path`))
  t.ok(existsSync(notSocket), 'a file that is not a socket is left alone')
})

t.test('stop: every client stopped (release first when configured) and closed, RA feed closed, socket gone', async t => {
  const { socket, ports, daemon } = setup(t, { releaseOnStop: true })
  await daemon.start()
  await daemon.stop('SIGTERM')
  for (const client of ports.clients) {
    t.equal(client.calls.at(-1), 'stop (release first)', client.interfaceName)
    t.ok(client.closed)
  }
  t.ok(ports.raFeed.closed)
  t.notOk(existsSync(socket))
  await t.rejects(request(socket, 'status'), { message: `no daemon at ${socket}: start it with \`ra6dhcp run IF\` (or give --socket PATH of a running one)` })
})

t.test('reload: log level live, changed client settings get a new client fed the last RA, restart-only keys reported', async t => {
  const { socket, ports, daemon, settings } = setup(t)
  let next: RunFlags = { stateDir: settings.stateDir, controlSocket: socket, logLevel: 'warn', iaPd: '1/56' }
  ports.reloadSettings = () => resolveSettings(['eth0', 'eth1'], next, env)
  await daemon.start()
  const [oldEth0, oldEth1] = ports.clients
  const change = await daemon.reload()
  t.same(change, { applied: ['log-level', 'eth0.ia-pd', 'eth1.ia-pd'], needsRestart: [] })
  t.equal(ports.logger.level, 'warn')
  t.equal(ports.clients.length, 4, 'both interfaces got a new client')
  t.same(oldEth0!.calls.slice(-1), ['stop'])
  t.ok(oldEth0!.closed && oldEth1!.closed)
  const newEth0 = ports.clients[2]!
  t.same(newEth0.context.defaultSpec, { mode: 'stateful', iaNa: [100], iaPd: [{ iaid: 200, prefixLength: 56 }], dns: true })
  t.same(newEth0.calls, ['onRa M=1 O=0 replayed'], 'the last RA is replayed to the new client')
  t.same(ports.clients[3]!.calls, [], 'no RA seen on eth1: nothing to replay')
  const status = await request(socket, 'start', 'eth0', 'prefix')
  t.same(status.ok && status.verb === 'start' && status.results[0]!.spec, { mode: 'stateful', iaNa: [], iaPd: [{ iaid: 200 }], dns: false }, 'verbs use the new IAIDs')

  next = { stateDir: '/tmp/elsewhere', controlSocket: socket, logLevel: 'warn', iaPd: '1/56' }
  t.same(await daemon.reload(), { applied: [], needsRestart: ['state-dir'] })
  t.equal(ports.clients.length, 4, 'restart-only changes leave the clients alone')
  t.equal(daemon.currentSettings.stateDir, settings.stateDir, 'and are not applied')
})
