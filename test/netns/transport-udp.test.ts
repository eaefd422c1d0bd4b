// The UDP transport between real namespaces: the client's multicast Solicit-shaped datagram
// reaches a server socket bound to ff02::1:2 port 547 in another namespace, the unicast answer
// comes back to the client's link-local port 546, and a datagram arriving on another interface
// never reaches the first interface's transport.
//
// Node cannot enter a namespace, so each side runs as a child process (this same file with
// RA6DHCP_TRANSPORT_ROLE set) under `ip netns exec`, talking JSON lines over stdin/stdout.
import { createInterface } from 'node:readline'
import { createSocket } from 'node:dgram'
import { fileURLToPath } from 'node:url'
import { UdpTransport, type TransportDestination } from '../../src/transport/udp.js'
import { NetnsLab, type Daemon, type Namespace } from '../lib/netns.js'
import { need } from '../lib/requirements.js'

type Line = Record<string, unknown>
const emit = (line: Line): void => { process.stdout.write(`${JSON.stringify(line)}\n`) }

/** Client role: one UdpTransport per interface in RA6DHCP_IFS. */
async function clientRole(): Promise<void> {
  const transports = new Map<string, UdpTransport>()
  for (const ifname of (process.env.RA6DHCP_IFS ?? '').split(',')) {
    const transport = await UdpTransport.open({ ifname })
    transport.onMessage((bytes, from) => emit({ ev: 'msg', if: ifname, from: from.address, port: from.port, data: Buffer.from(bytes).toString() }))
    transports.set(ifname, transport)
    emit({ ev: 'ready', if: ifname, local: transport.localAddress })
  }
  for await (const text of createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(text) as { cmd: string; if: string; to?: string; data?: string; address?: string }
    const transport = transports.get(cmd.if)
    if (!transport) throw new Error(`no transport on ${cmd.if}`)
    if (cmd.cmd === 'listen') {
      await transport.listenOn(cmd.address ?? '')
      emit({ ev: 'listening', if: cmd.if, on: transport.listeningOn() })
    } else if (cmd.cmd === 'unlisten') {
      await transport.stopListening(cmd.address ?? '')
      emit({ ev: 'unlistened', if: cmd.if, on: transport.listeningOn() })
    } else if (cmd.cmd === 'send') {
      const to: TransportDestination = cmd.to === 'all-servers' ? 'all-servers' : { unicast: cmd.to ?? '' }
      await transport.send(Buffer.from(cmd.data ?? ''), to)
      emit({ ev: 'sent', if: cmd.if })
    } else if (cmd.cmd === 'counters') emit({ ev: 'counters', if: cmd.if, counters: transport.counters })
  }
  await Promise.all([...transports.values()].map(t => t.close()))
}

/** Server role: receives on ff02::1:2%IF port 547, answers unicast from its link-local port 547. */
async function serverRole(): Promise<void> {
  const ifname = process.env.RA6DHCP_IFS ?? ''
  const linkLocal = process.env.RA6DHCP_LL ?? ''
  const bind = (address: string, port: number) => new Promise<ReturnType<typeof createSocket>>((resolve, reject) => {
    const s = createSocket({ type: 'udp6' })
    s.once('error', reject)
    s.bind({ address, port, exclusive: true }, () => resolve(s))
  })
  const group = await bind(`ff02::1:2%${ifname}`, 547)
  group.addMembership('ff02::1:2', `::%${ifname}`)
  const unicast = await bind(`${linkLocal}%${ifname}`, 547)
  group.on('message', (data, rinfo) => {
    emit({ ev: 'msg', to: 'ff02::1:2', from: rinfo.address, port: rinfo.port, data: data.toString() })
    unicast.send(Buffer.from(`reply:${data.toString()}`), rinfo.port, `${rinfo.address.replace(/%.*$/, '')}%${ifname}`)
  })
  emit({ ev: 'ready' })
  for await (const text of createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(text) as { to: string; port: number; data: string }
    unicast.send(Buffer.from(cmd.data), cmd.port, cmd.to, () => emit({ ev: 'sent' }))
  }
}

/** A child role process in `ns`, with a reader of its JSON lines. */
class Child {
  private lines: Line[] = []
  private waiters: (() => void)[] = []
  readonly daemon: Daemon
  constructor(ns: Namespace, role: string, env: Record<string, string>) {
    const loader = process.execArgv.filter(a => a.includes('@tapjs/typescript'))
    const self = fileURLToPath(import.meta.url)
    this.daemon = ns.spawn(`${role}-${ns.name}`, [process.execPath, ...loader, self], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, ...env, RA6DHCP_TRANSPORT_ROLE: role, TS_NODE_TRANSPILE_ONLY: '1', NODE_OPTIONS: '' },
    })
    const stdout = this.daemon.process.stdout
    if (!stdout) throw new Error('child has no stdout')
    createInterface({ input: stdout }).on('line', text => {
      this.lines.push(JSON.parse(text) as Line)
      this.waiters.splice(0).forEach(w => w())
    })
  }
  send(cmd: Line): void { this.daemon.process.stdin?.write(`${JSON.stringify(cmd)}\n`) }
  /** All lines so far matching `pred`. */
  seen(pred: (l: Line) => boolean): Line[] { return this.lines.filter(pred) }
  /** Waits for a line matching `pred` (resolves undefined after `timeoutMs`). */
  async wait(pred: (l: Line) => boolean, timeoutMs = 15000): Promise<Line | undefined> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const hit = this.lines.find(pred)
      if (hit) return hit
      const left = deadline - Date.now()
      if (left <= 0) return undefined
      await new Promise<void>(resolve => { const timer = setTimeout(resolve, left); this.waiters.push(() => { clearTimeout(timer); resolve() }) })
    }
  }
}

async function tests(): Promise<void> {
  const { default: t } = await import('tap')
  t.test('multicast to ff02::1:2 reaches the server; its unicast reply and only same-interface traffic reach the transport', async t => {
    if (!need(t, { root: true, commands: ['ip', 'tshark'] })) return
    const lab = new NetnsLab(t)
    const client = await lab.addNamespace('c')
    const server = await lab.addNamespace('s')
    const other = await lab.addNamespace('x')
    await lab.link(client, 'c0', server, 's0')
    await lab.link(client, 'c1', other, 'x0')
    const serverLL = await lab.waitForLinkLocal(server, 's0')
    const otherLL = await lab.waitForLinkLocal(other, 'x0')
    const c0LL = await lab.waitForLinkLocal(client, 'c0')
    const c1LL = await lab.waitForLinkLocal(client, 'c1')

    const srv = new Child(server, 'server', { RA6DHCP_IFS: 's0', RA6DHCP_LL: serverLL })
    const x = new Child(other, 'server', { RA6DHCP_IFS: 'x0', RA6DHCP_LL: otherLL })
    const cli = new Child(client, 'client', { RA6DHCP_IFS: 'c0,c1' })
    t.ok(await srv.wait(l => l.ev === 'ready'), 'server ready')
    t.ok(await x.wait(l => l.ev === 'ready'), 'other-link sender ready')
    t.same(await cli.wait(l => l.ev === 'ready' && l.if === 'c0'), { ev: 'ready', if: 'c0', local: c0LL }, 'bound to the link-local address of c0')
    t.ok(await cli.wait(l => l.ev === 'ready' && l.if === 'c1'))

    // Capture the multicast on the server's side of the link to see its IPv6 header.
    const capture = server.spawn('tshark', ['tshark', '-l', '-i', 's0', '-c', '1', '-f', 'udp dst port 547', '-T', 'fields', '-e', 'ipv6.hlim', '-e', 'ipv6.dst', '-e', 'udp.srcport'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let captured = ''
    capture.process.stdout?.on('data', (chunk: Buffer) => { captured += chunk.toString() })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('tshark did not start capturing')), 20000)
      capture.process.stderr?.on('data', (chunk: Buffer) => { if (chunk.toString().includes('Capture started')) { clearTimeout(timer); resolve() } })
    })

    cli.send({ cmd: 'send', if: 'c0', to: 'all-servers', data: 'solicit-1' })
    let giveUp: NodeJS.Timeout | undefined
    await Promise.race([capture.exited, new Promise(r => { giveUp = setTimeout(r, 10000) })])
    clearTimeout(giveUp)
    t.same(captured.trim().split('\t'), ['1', 'ff02::1:2', '546'], 'on the wire: hop limit 1, to ff02::1:2, from port 546')
    const got = await srv.wait(l => l.ev === 'msg')
    t.same(got, { ev: 'msg', to: 'ff02::1:2', from: `${c0LL}%s0`, port: 546, data: 'solicit-1' }, 'server got it on ff02::1:2 from the client link-local, port 546')
    const reply = await cli.wait(l => l.ev === 'msg' && l.data === 'reply:solicit-1')
    t.same(reply, { ev: 'msg', if: 'c0', from: serverLL, port: 547, data: 'reply:solicit-1' }, 'unicast reply delivered to the c0 transport')

    // From the other link: to c1's address (control: delivery works) and to c0's address (wrong interface).
    x.send({ to: `${c1LL}%x0`, port: 546, data: 'to-c1' })
    x.send({ to: `${c0LL}%x0`, port: 546, data: 'to-c0-via-c1' })
    t.ok(await cli.wait(l => l.ev === 'msg' && l.data === 'to-c1'), 'control: a datagram for c1 arrives at the c1 transport')
    await new Promise(r => setTimeout(r, 500))
    t.same(cli.seen(l => l.ev === 'msg' && l.data === 'to-c1').map(l => l.if), ['c1'], 'only the c1 transport got it')
    t.same(cli.seen(l => l.ev === 'msg' && l.data === 'to-c0-via-c1'), [], 'a datagram for c0 arriving on c1 is not delivered')

    cli.send({ cmd: 'send', if: 'c0', to: serverLL, data: 'unicast-1' })
    t.ok(await cli.wait(l => l.ev === 'sent' && l.if === 'c0' && cli.seen(m => m.ev === 'sent').length >= 2))
    cli.send({ cmd: 'counters', if: 'c0' })
    const counters = await cli.wait(l => l.ev === 'counters')
    t.same(counters?.counters, { sent: 2, sendErrors: 0, received: 1, receiveErrors: 0, handlerErrors: 0, otherInterface: 0 })
    await lab.cleanup()
  })

  t.test('listenOn: a datagram to a leased global address reaches the transport until stopListening', async t => {
    if (!need(t, { root: true, commands: ['ip'] })) return
    const lab = new NetnsLab(t)
    const client = await lab.addNamespace('c')
    const server = await lab.addNamespace('s')
    await lab.link(client, 'c0', server, 's0')
    const serverLL = await lab.waitForLinkLocal(server, 's0')
    await lab.waitForLinkLocal(client, 'c0')
    const leased = '2001:db8:46::200'
    await client.run(['ip', '-6', 'addr', 'add', `${leased}/128`, 'dev', 'c0', 'nodad'])
    await server.run(['ip', '-6', 'route', 'add', `${leased}/128`, 'dev', 's0'])
    const srv = new Child(server, 'server', { RA6DHCP_IFS: 's0', RA6DHCP_LL: serverLL })
    const cli = new Child(client, 'client', { RA6DHCP_IFS: 'c0' })
    t.ok(await srv.wait(l => l.ev === 'ready'))
    t.ok(await cli.wait(l => l.ev === 'ready'))

    srv.send({ to: leased, port: 546, data: 'before-listen' })
    t.ok(await srv.wait(l => l.ev === 'sent'), 'sent before anything listens on it')
    await new Promise(r => setTimeout(r, 200))
    cli.send({ cmd: 'listen', if: 'c0', address: leased })
    t.same(await cli.wait(l => l.ev === 'listening'), { ev: 'listening', if: 'c0', on: [leased] })
    cli.send({ cmd: 'listen', if: 'c0', address: leased })
    t.ok(await cli.wait(l => l.ev === 'listening' && cli.seen(m => m.ev === 'listening').length === 2), 'a second listenOn is a no-op')
    srv.send({ to: leased, port: 546, data: 'reconfigure-1' })
    t.same(await cli.wait(l => l.ev === 'msg' && l.data === 'reconfigure-1'), { ev: 'msg', if: 'c0', from: serverLL, port: 547, data: 'reconfigure-1' },
      'delivered to the c0 transport\'s handler')
    cli.send({ cmd: 'unlisten', if: 'c0', address: leased })
    t.same(await cli.wait(l => l.ev === 'unlistened'), { ev: 'unlistened', if: 'c0', on: [] })
    srv.send({ to: leased, port: 546, data: 'after-unlisten' })
    await new Promise(r => setTimeout(r, 500))
    t.same(cli.seen(l => l.ev === 'msg').map(l => l.data), ['reconfigure-1'], 'nothing before listenOn or after stopListening')
    await lab.cleanup()
  })
}

const role = process.env.RA6DHCP_TRANSPORT_ROLE
if (role === 'client') await clientRole()
else if (role === 'server') await serverRole()
else await tests()
