// The real `ra6dhcp run` daemon against real radvd (M=1) + Kea in host namespaces, judged by what
// the interface (ip -j), Kea's lease file, the hook and the captured packets (decoded by tshark)
// show: an IA_NA lease with Kea's lifetimes, Renew at T1, Rebind at T2 with Kea down, expiry,
// Release, and IA_PD. Timers are a few seconds, so each test takes seconds.
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { need } from '../lib/requirements.js'
import { readKeaLeases, waitFor } from '../lib/servers.js'
import { ClientLab, CLIENT_LAB_NEEDS, MessageType, replyTo, sequence, type CapturedPacket } from '../lib/client-lab.js'

/** Kea writes DUIDs as "00:01:...". */
/** "00:01:..." (Kea) or dhclient's unpadded "0:1:..." (the hook's DUIDs) as plain hex. */
const plainHex = (duid: string) => duid.split(':').map(b => b.padStart(2, '0')).join('').toLowerCase()

/**
 * RFC 8415 sections 18.2.4/18.2.5: Renew "at T1", Rebind "at T2", with no random delay (RAND
 * applies to retransmissions only). The Ready Logo tests accept +-5 %; the capture timestamps the
 * Reply before the daemon sees it, so a timer can never look early: the lower bound is T exactly
 * (less 5 ms for the kernel's timestamp granularity), the upper bound T + 5 %.
 */
function atTimer(t: Test, sent: CapturedPacket, reference: CapturedPacket, seconds: number, what: string): void {
  const delta = sent.time - reference.time
  t.ok(delta >= seconds - 0.005 && delta <= seconds * 1.05, `${what} ${delta.toFixed(3)} s after the Reply (T = ${seconds} s, allowed ${seconds}..${(seconds * 1.05).toFixed(2)} s)`)
}

async function boundLease(t: Test, lab: ClientLab): Promise<{ address: string; reply: CapturedPacket; packets: CapturedPacket[] }> {
  const onLink = await lab.waitForLeasedAddress()
  // dumpcap writes the file a moment after the packets pass
  const { packets, reply } = await waitFor('the Request and its Reply in the capture', async () => {
    const packets = await lab.packets()
    const request = packets.find(p => p.fromClient && p.msgType === MessageType.Request)
    const reply = request && replyTo(packets, request)
    return reply && { packets, reply }
  }, 5000)
  t.ok(reply.iaAddresses.some(a => a.address === onLink.local), `eth0 has the address of Kea's Reply: ${onLink.local}`)
  return { address: onLink.local, reply, packets }
}

t.test('IA_NA from Kea: a /128 with the Reply\'s lifetimes, Renew at T1 extends it, Release frees it on Kea and eth0', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const hostResolv = readFileSync('/etc/resolv.conf', 'utf8')
  const T1 = 4, T2 = 7, PREFERRED = 10, VALID = 12
  const lab = await ClientLab.create(t, { kea: { renewTimer: T1, rebindTimer: T2, preferredLifetime: PREFERRED, validLifetime: VALID, dnsServers: ['2001:db8:7::53'] } })
  lab.startDaemon(['--sol-max-delay', '0'])
  const { address, reply } = await boundLease(t, lab)

  // the interface: a /128 (RFC 8415 section 21.6: the prefix length comes from RAs), dynamic, with
  // the lifetimes Kea gave counting down from the Reply
  const [onLink] = (await lab.addresses()).filter(a => a.local === address)
  const age = Date.now() / 1000 - reply.time
  t.equal(onLink?.prefixlen, 128, 'applied as /128')
  t.equal(onLink?.dynamic, true, 'with lifetimes (not permanent)')
  t.same(reply.iaAddresses.map(a => [a.preferred, a.valid]), [[PREFERRED, VALID]], 'Kea gave the configured lifetimes')
  t.same(reply.t1, [T1], 'and T1'); t.same(reply.t2, [T2], 'and T2')
  t.ok(onLink && onLink.valid_life_time <= VALID && onLink.valid_life_time >= VALID - Math.ceil(age) - 1, `valid_lft ${onLink?.valid_life_time} s is Kea's ${VALID} s less ${age.toFixed(1)} s`)
  t.ok(onLink && onLink.preferred_life_time <= PREFERRED && onLink.preferred_life_time >= PREFERRED - Math.ceil(age) - 1, `preferred_lft ${onLink?.preferred_life_time} s is Kea's ${PREFERRED} s less ${age.toFixed(1)} s`)

  // Kea's lease file: this address for the DUID in the captured Client ID
  const leased = readKeaLeases(lab.kea!.leaseFile).current.find(l => l.address === address)
  t.equal(leased && plainHex(leased.duid), reply.clientId, "Kea's lease is for the client's DUID")
  const expireBefore = leased?.expire ?? NaN

  // Renew at T1 (multicast: Kea sent no Server Unicast), with the Server ID and the lease
  const renew = await lab.waitForPacket('a Renew', p => p.fromClient && p.msgType === MessageType.Renew, (T1 + 3) * 1000)
  const packets = await lab.packets()
  atTimer(t, renew, reply, T1, 'Renew')
  t.equal(renew.dst, 'ff02::1:2', 'Renew to All_DHCP_Relay_Agents_and_Servers')
  t.ok(renew.optionCodes.includes(2), 'Renew carries the Server ID (RFC 8415 section 18.2.4)')
  t.same(renew.iaAddresses.map(a => a.address), [address], 'for the leased address')
  t.same(packets.filter(p => p.fromClient && p.time > reply.time && p.time < renew.time), [], 'nothing sent between the Reply and T1')
  const renewed = await waitFor('the Reply to the Renew', async () => replyTo(await lab.packets(), renew), 5000)
  t.same(renewed.iaAddresses.map(a => a.valid), [VALID], 'Kea extends the lease')
  await waitFor('the state bound again', () => lab.status().state === 'bound', 5000)
  const [extended] = (await lab.addresses()).filter(a => a.local === address)
  const sinceRenew = Date.now() / 1000 - renewed.time
  t.ok(extended && extended.valid_life_time >= VALID - Math.ceil(sinceRenew) - 1, `eth0's valid_lft is back to ~${VALID} s after the Renew (${extended?.valid_life_time} s)`)
  const expireAfter = readKeaLeases(lab.kea!.leaseFile).current.find(l => l.address === address)?.expire ?? NaN
  t.ok(expireAfter - expireBefore >= T1 - 1, `Kea's expiry moved ${expireAfter - expireBefore} s later`)
  t.ok(lab.hookCalls().some(env => env.reason === 'RENEW6' && env.new_ip6_address === address), 'the hook ran with RENEW6')
  t.equal(readFileSync(lab.resolvFragment, 'utf8').includes('nameserver 2001:db8:7::53'), true, 'DNS from Kea in the fragment in lab.dir')

  // Release: sent with the Server ID and the address, Kea frees the lease, eth0 loses the address
  const released = lab.ctl('release')
  t.equal(released.code, 0, released.stderr)
  const release = await lab.waitForPacket('a Release', p => p.fromClient && p.msgType === MessageType.Release, 5000)
  t.ok(release.optionCodes.includes(2), 'Release carries the Server ID')
  t.same(release.iaAddresses.map(a => a.address), [address], 'and the address')
  const releaseReply = await waitFor('the Reply to the Release', async () => replyTo(await lab.packets(), release), 5000)
  t.ok(releaseReply.statusCodes.every(code => code === 0), `Kea answers Success (status codes ${releaseReply.statusCodes.join(',') || 'none'})`)
  await waitFor('Kea to free the lease', () => !readKeaLeases(lab.kea!.leaseFile).current.some(l => l.address === address), 5000)
  t.pass("Kea's lease file no longer holds the lease")
  t.same((await lab.leasedAddresses()).map(a => a.local), [], 'the address is gone from eth0')
  t.ok(lab.hookCalls().some(env => env.reason === 'RELEASE6' && env.old_ip6_address === address), 'the hook ran with RELEASE6')
  t.equal(readFileSync('/etc/resolv.conf', 'utf8'), hostResolv, "the machine's /etc/resolv.conf is unchanged")
})

t.test('Rebind at T2 with Kea stopped (the Renew goes unanswered), answered by Kea restarted on its lease file', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  // VALID leaves room for the Rebind's retransmission (RT about REB_TIMEOUT = 10 s) should Kea
  // come back too late for the first Rebind on a loaded machine
  const T1 = 3, T2 = 6, PREFERRED = 15, VALID = 20
  const lab = await ClientLab.create(t, { kea: { renewTimer: T1, rebindTimer: T2, preferredLifetime: PREFERRED, validLifetime: VALID } })
  lab.startDaemon(['--sol-max-delay', '0'])
  const { address, reply } = await boundLease(t, lab)
  await lab.stopKea()
  const renew = await lab.waitForPacket('a Renew at T1', p => p.fromClient && p.msgType === MessageType.Renew, (T1 + 3) * 1000)
  atTimer(t, renew, reply, T1, 'Renew')
  // Kea comes back before T2: it can only answer the Rebind, as the Renew's retransmission (RT
  // about REN_TIMEOUT = 10 s) would come after T2.
  await lab.restartKea()
  const rebind = await lab.waitForPacket('a Rebind at T2', p => p.fromClient && p.msgType === MessageType.Rebind, (T2 + 3) * 1000)
  const packets = await lab.packets()
  t.notOk(replyTo(packets, renew), 'the Renew was not answered')
  atTimer(t, rebind, reply, T2, 'Rebind')
  t.equal(rebind.dst, 'ff02::1:2', 'Rebind is multicast')
  t.notOk(rebind.optionCodes.includes(2), 'Rebind carries no Server ID (RFC 8415 section 18.2.5)')
  t.same(rebind.iaAddresses.map(a => a.address), [address], 'Rebind asks for the leased address')
  t.equal(rebind.clientId, renew.clientId, 'same Client ID')
  const rebound = await waitFor('a Reply to the Rebind', async () => replyTo(await lab.packets(), rebind), 15_000)
  t.same(rebound.iaAddresses.map(a => [a.address, a.valid]), [[address, VALID]], 'the restarted Kea extends the same lease')
  await waitFor('the state bound again', () => lab.status().state === 'bound', 5000)
  const [onLink] = (await lab.addresses()).filter(a => a.local === address)
  t.ok(onLink && onLink.valid_life_time >= VALID - Math.ceil(Date.now() / 1000 - rebound.time) - 1, `eth0's valid_lft is refreshed (${onLink?.valid_life_time} s)`)
  t.ok(lab.hookCalls().some(env => env.reason === 'REBIND6' && env.new_ip6_address === address), 'the hook ran with REBIND6')
  t.ok(readKeaLeases(lab.kea!.leaseFile).current.some(l => l.address === address && plainHex(l.duid) === rebind.clientId), 'Kea holds the lease for the client')
})

t.test('expiry: with Kea gone for good, the address is removed at its valid lifetime and the client Solicits again', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const T1 = 1, T2 = 2, PREFERRED = 3, VALID = 5
  const lab = await ClientLab.create(t, { kea: { renewTimer: T1, rebindTimer: T2, preferredLifetime: PREFERRED, validLifetime: VALID } })
  lab.startDaemon(['--sol-max-delay', '0'])
  const { address, reply: firstReply } = await boundLease(t, lab)
  await lab.stopKea()
  const solicit = await lab.waitForPacket('a Solicit after expiry', p => p.fromClient && p.msgType === MessageType.Solicit && p.time > firstReply.time, (VALID + T1 + 5) * 1000)
  const packets = await lab.packets()
  // Kea may still have answered the first Renew while it was shutting down: the last Reply counts
  const reply = packets.filter(p => p.msgType === MessageType.Reply && p.time < solicit.time).pop()!
  const between = packets.filter(p => p.fromClient && p.time > reply.time && p.time < solicit.time)
  t.ok(between.some(p => p.msgType === MessageType.Renew) && between.some(p => p.msgType === MessageType.Rebind), `Renew and Rebind before expiry: ${sequence(between)}`)
  const sinceReply = solicit.time - reply.time
  // the Rebind's MRD ends at the valid lifetime; the Solicit follows, after no initial delay here
  t.ok(sinceReply >= VALID - 0.005 && sinceReply <= VALID + 1, `the new Solicit ${sinceReply.toFixed(2)} s after the Reply (valid lifetime ${VALID} s)`)
  t.same((await lab.leasedAddresses()).map(a => a.local), [], 'the address is gone from eth0')
  const expired = lab.hookCalls().find(env => env.reason === 'EXPIRE6')
  t.equal(expired?.old_ip6_address, address, 'the hook ran with EXPIRE6 for the address')
  const status = lab.status()
  t.same(status.leases, [], 'ctl status shows no lease')
  t.equal(status.state, 'soliciting')
})

t.test('IA_PD from Kea: the delegated prefix is in Kea\'s lease file, ctl status and the hook\'s DELEGATED6 environment', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const lab = await ClientLab.create(t, {
    kea: { renewTimer: 100, rebindTimer: 160, preferredLifetime: 200, validLifetime: 300, pdPools: [{ prefix: '2001:db8:80::', prefixLen: 48, delegatedLen: 56 }] },
  })
  lab.startDaemon(['--sol-max-delay', '0', '--ia-na', '1', '--ia-pd', '1/56'])
  const { address } = await boundLease(t, lab)
  const packets = await lab.packets()
  const request = packets.find(p => p.fromClient && p.msgType === MessageType.Request)!
  t.ok(request.optionCodes.includes(3) && request.optionCodes.includes(25), 'the Request has an IA_NA and an IA_PD')
  const reply = replyTo(packets, request)!
  t.equal(reply.iaPrefixes.length, 1, 'Kea delegates one prefix')
  const delegated = reply.iaPrefixes[0]!.prefix
  t.match(delegated, /^2001:db8:80:(?:[0-9a-f]{1,2}00:)?:\/56$/, `a /56 from the pool: ${delegated}`)
  t.same([reply.iaPrefixes[0]!.preferred, reply.iaPrefixes[0]!.valid], [200, 300], 'with Kea\'s lifetimes')

  const keaPd = readKeaLeases(lab.kea!.leaseFile).current.filter(l => l.type === 'IA_PD')
  t.same(keaPd.map(l => `${l.address}/${l.prefixLen}`), [delegated], "Kea's lease file holds the prefix")
  t.equal(keaPd[0] && plainHex(keaPd[0].duid), request.clientId, 'for the client')

  const status = await waitFor('the state bound', () => { const s = lab.status(); return s.state === 'bound' && s }, 5000)
  const pd = status.leases.find(l => l.kind === 'ia-pd')
  t.same(pd?.entries.map(e => e.value), [delegated], 'ctl status shows the prefix')
  t.ok(pd && pd.entries[0]!.validLeft <= 300 && pd.entries[0]!.validLeft >= 295, `with its valid time left (${pd?.entries[0]?.validLeft} s)`)
  t.ok(status.leases.some(l => l.kind === 'ia-na' && l.entries.some(e => e.value === address)), 'next to the IA_NA address')

  const hook = await waitFor('the hook with DELEGATED6', () => lab.hookCalls().find(env => env.reason === 'DELEGATED6'), 5000)
  t.equal(hook.new_ip6_prefix, delegated, 'DELEGATED6 has new_ip6_prefix')
  t.same(lab.hookCalls().filter(env => env.reason === 'DELEGATED6').map(env => env.new_ip6_address ?? env.new_ip6_prefix), [delegated], 'DELEGATED6 runs once, for the prefix only')
  t.equal(hook.interface, 'eth0')
  // lifetimes as received, counted from new_starts (dhclient's script_write_params6 does the same)
  t.equal(hook.new_max_life, '300', `new_max_life ${hook.new_max_life} is Kea's 300 s`)
  t.equal(hook.new_preferred_life, '200', `new_preferred_life ${hook.new_preferred_life} is Kea's 200 s`)
  t.match(hook.new_iaid ?? '', /^[0-9a-f]{2}(:[0-9a-f]{2}){3}$|^".{4}"$/, `new_iaid ${hook.new_iaid} as dhclient prints it`)
  t.equal(plainHex(hook.new_dhcp6_client_id ?? ''), request.clientId, 'and the client id')
  t.ok(lab.hookCalls().some(env => env.reason === 'BOUND6' && env.new_ip6_address === address), 'BOUND6 ran for the address')
})
