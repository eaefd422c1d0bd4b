// Reconfigure (RFC 8415 sections 18.2.11, 20.4) with the real `ra6dhcp run` daemon and radvd
// (M=1), against a scripted server (test/lib/rkap-server.py, Python stdlib, written apart from our
// codec): Kea 2.2 and dnsmasq never send Reconfigure. The server's Reply to Request carries an
// RKAP reconfigure key; then it sends, to the client's link-local address, an unauthenticated
// Reconfigure, one signed with the wrong key, a valid one asking for Renew, that same one again
// (replayed), and valid ones asking for Information-request and Rebind. Judged by the server's
// log (what the client sent, with its options), the daemon's counters, the stored lease and
// tshark's decoding of the capture.
import t from 'tap'
import type { Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { need } from '../lib/requirements.js'
import { readLog, waitFor } from '../lib/servers.js'
import { ClientLab, CLIENT_LAB_NEEDS, MessageType } from '../lib/client-lab.js'
import type { Daemon } from '../lib/netns.js'

const RKAP_SERVER = fileURLToPath(new URL('../lib/rkap-server.py', import.meta.url))
const NEEDS = { ...CLIENT_LAB_NEEDS, files: [...CLIENT_LAB_NEEDS.files, '/usr/bin/python3', RKAP_SERVER] }
/** test/lib/rkap-server.py: SERVER_DUID (DUID-LL) and the address it leases (PREFIX64 + 200). */
const SERVER_DUID = '0003000102000000e001'
const PREFIX64 = '2001:db8:7::'
const LEASED_HEX = '20010db8000700000000000000000200'
const OPTION_RECONFIGURE_ACCEPT = 20

interface ServerEvent {
  time: number
  event: string
  case?: string
  msgType?: number
  reconfigureAccept?: boolean
  serverId?: string | null
  clientId?: string | null
  iaNa?: string[]
  oro?: number[]
}

const serverLog = (server: Daemon): ServerEvent[] =>
  readLog(server).split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as ServerEvent)

/** The client's messages the server received between the Reconfigure of `name` and the next one. */
function answersTo(events: ServerEvent[], name: string): ServerEvent[] {
  const start = events.findIndex(e => e.event === 'reconfigure' && e.case === name)
  if (start < 0) return []
  const rest = events.slice(start + 1)
  const end = rest.findIndex(e => e.event === 'reconfigure' || e.event === 'done')
  return (end < 0 ? rest : rest.slice(0, end)).filter(e => e.event === 'received')
}

/**
 * The lab with the scripted server and the daemon (with `daemonFlags`); resolves once the server
 * has run all its cases, with the lab and the server's log.
 */
async function runCases(t: Pick<Test, 'teardown' | 'passing' | 'comment'>, daemonFlags: string[], answerSeconds: number): Promise<{ lab: ClientLab; events: ServerEvent[] }> {
  const lab = await ClientLab.create(t, { prefix64: PREFIX64, noServer: true })
  const server = lab.net.router.spawn('rkap-server', ['/usr/bin/python3', '-u', RKAP_SERVER, lab.net.routerIf, PREFIX64, String(answerSeconds)])
  t.teardown(() => { if (!t.passing()) t.comment(`rkap-server log:\n${readLog(server)}`) })
  await waitFor('the scripted server to listen', () => serverLog(server).some(e => e.event === 'listening'), 10_000, 100)
  lab.startDaemon(['--sol-max-delay', '0', ...daemonFlags])
  await waitFor('the scripted server to finish its cases', () => {
    lab.assertDaemonRunning()
    return serverLog(server).some(e => e.event === 'done')
  }, 60_000, 200)
  return { lab, events: serverLog(server) }
}

t.test('--reconfigure-accept: RKAP-signed Reconfigures lead to Renew, Information-request and Rebind; unauthenticated, wrongly signed and replayed ones are dropped and counted', async t => {
  if (!need(t, NEEDS)) return
  const { lab, events } = await runCases(t, ['--reconfigure-accept'], 10)
  const received = events.filter(e => e.event === 'received')
  const solicit = received.find(e => e.msgType === MessageType.Solicit)
  const request = received.find(e => e.msgType === MessageType.Request)
  t.equal(solicit?.reconfigureAccept, true, 'the Solicit carries Reconfigure Accept')
  t.equal(request?.reconfigureAccept, true, 'the Request carries Reconfigure Accept')
  const clientId = request?.clientId ?? ''
  t.not(clientId, '', 'the Request has a Client ID')

  for (const dropped of ['unauthenticated', 'bad-hmac', 'replayed']) {
    t.same(answersTo(events, dropped).map(e => e.msgType), [], `no answer to the ${dropped} Reconfigure`)
  }
  const renew = answersTo(events, 'renew')
  t.same(renew.map(e => e.msgType), [MessageType.Renew], 'a valid Reconfigure (Renew) is answered by one Renew')
  t.match(renew[0], { serverId: SERVER_DUID, clientId, reconfigureAccept: true }, 'the Renew names this server and client')
  t.ok(renew[0]?.iaNa?.some(ia => ia.includes(LEASED_HEX)), 'the Renew asks to extend the leased address')
  const inform = answersTo(events, 'information-request')
  t.same(inform.map(e => e.msgType), [MessageType.InformationRequest], 'Reconfigure (Information-request) is answered by one Information-request')
  t.match(inform[0], { clientId, serverId: SERVER_DUID }, 'the Information-request carries our Client ID and the Reconfigure\'s Server ID (RFC 8415 section 18.2.6)')
  t.same(inform[0]?.iaNa, [], 'the Information-request carries no IA')
  t.ok([31, 56].every(code => inform[0]?.oro?.includes(code)), `its ORO (${inform[0]?.oro?.join(',')}) adds the Reconfigure's 31 and 56 (RFC 8415 section 21.7)`)
  t.notOk(renew[0]?.oro?.includes(31), 'the Renew, whose Reconfigure had no ORO, asks for our options only')
  const rebind = answersTo(events, 'rebind')
  t.same(rebind.map(e => e.msgType), [MessageType.Rebind], 'Reconfigure (Rebind) is answered by one Rebind')
  t.notOk(rebind[0]?.serverId, 'the Rebind names no server (RFC 8415 section 18.2.5)')
  t.ok(rebind[0]?.iaNa?.some(ia => ia.includes(LEASED_HEX)), 'the Rebind asks to extend the leased address')
  t.same(answersTo(events, 'renew-to-leased-address').map(e => e.msgType), [MessageType.Renew],
    'a Reconfigure sent to the leased global address (RFC 8415 section 18.3.11) is answered too')

  await waitFor('the state bound after the last exchange', () => lab.status().state === 'bound', 10_000)
  const counters = lab.status().counters
  t.match(counters, {
    'received.reconfigure': 4,
    'dropped.reconfigure-unauthenticated': 1,
    'dropped.reconfigure-bad-hmac': 1,
    'dropped.reconfigure-replayed': 1,
  }, 'each drop counted under its reason; four accepted')
  t.same((await lab.leasedAddresses()).map(a => a.local), [`${PREFIX64}200`], 'the leased address stays on eth0')
  const stored = JSON.parse(readFileSync(join(lab.stateDir, `${lab.ifname}.lease.json`), 'utf8')) as { data: Record<string, unknown> }
  t.match(stored.data, { reconfigureKey: '00112233445566778899aabbccddeeff', reconfigureReplayDetection: '5' }, 'the key and the last accepted replay counter are saved with the lease')

  // tshark (not our decoder) reads the same exchange off the client's wire.
  const packets = await lab.packets()
  const reconfigures = packets.filter(p => !p.fromClient && p.msgType === MessageType.Reconfigure)
  t.equal(reconfigures.length, 7, 'the seven Reconfigures reached eth0')
  t.same(reconfigures.map(p => p.dst.startsWith('fe80:') ? 'link-local' : p.dst), [...Array(6).fill('link-local'), `${PREFIX64}200`],
    'six to the client\'s link-local address, the last to its leased address')
  const tsharkRequest = packets.find(p => p.fromClient && p.msgType === MessageType.Request)
  t.ok(tsharkRequest?.optionCodes.includes(OPTION_RECONFIGURE_ACCEPT), 'tshark sees option 20 in the Request')
})

t.test('without --reconfigure-accept: no Reconfigure Accept is sent and every Reconfigure is dropped as not accepted', async t => {
  if (!need(t, NEEDS)) return
  const { lab, events } = await runCases(t, [], 1.5)
  const fromClient = events.filter(e => e.event === 'received')
  t.same(fromClient.map(e => e.msgType), [MessageType.Solicit, MessageType.Request], 'only Solicit and Request: no Reconfigure was answered')
  t.ok(fromClient.every(e => e.reconfigureAccept === false), 'no Reconfigure Accept option')
  t.match(lab.status().counters, { 'dropped.reconfigure-not-accepted': 6 }, 'the six to the link-local address dropped as not accepted (nothing listens on the leased address)')
  t.notOk(lab.status().counters['received.reconfigure'], 'none accepted')
})
