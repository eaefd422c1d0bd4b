// The real `ra6dhcp run` daemon against real radvd + dnsmasq (the second server implementation):
// an IA_NA lease applied with the Reply's lifetimes (M=1), and stateless Information-request when
// the RA has O=1 only, with DNS written to the fragment in lab.dir and never to /etc/resolv.conf.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { need } from '../lib/requirements.js'
import { readDnsmasqLeases, waitFor } from '../lib/servers.js'
import { ClientLab, CLIENT_LAB_NEEDS, MessageType, replyTo, sequence } from '../lib/client-lab.js'

const OPTION_IA_NA = 3, OPTION_IA_PD = 25, OPTION_DNS_SERVERS = 23, OPTION_DOMAIN_LIST = 24, OPTION_INFORMATION_REFRESH_TIME = 32

t.test('IA_NA from dnsmasq: a /128 on eth0 with the lifetimes of dnsmasq\'s Reply, in dnsmasq\'s lease file for our DUID', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const prefix64 = '2001:db8:9::'
  const lab = await ClientLab.create(t, {
    prefix64,
    dnsmasq: { ranges: [{ mode: 'stateful', start: `${prefix64}100`, end: `${prefix64}1ff`, leaseTime: '300' }], dnsServers: [`${prefix64}53`] },
  })
  lab.startDaemon(['--sol-max-delay', '0'])
  const onLink = await lab.waitForLeasedAddress()
  const { request, reply } = await waitFor('the Request and its Reply in the capture', async () => {
    const packets = await lab.packets()
    const request = packets.find(p => p.fromClient && p.msgType === MessageType.Request)
    const reply = request && replyTo(packets, request)
    return reply && { request, reply }
  }, 5000)
  t.match(onLink.local, /^2001:db8:9::1[0-9a-f]{2}$/, `an address from dnsmasq's range: ${onLink.local}`)
  t.equal(onLink.prefixlen, 128, 'applied as /128')
  const given = reply.iaAddresses.find(a => a.address === onLink.local)
  t.ok(given, "the address of dnsmasq's Reply")
  t.equal(given?.valid, 300, 'dnsmasq gave the configured lease time as valid lifetime')
  const age = Date.now() / 1000 - reply.time
  t.ok(given && onLink.valid_life_time <= given.valid && onLink.valid_life_time >= given.valid - Math.ceil(age) - 1, `valid_lft ${onLink.valid_life_time} s is dnsmasq's ${given?.valid} s less ${age.toFixed(1)} s`)
  t.ok(given && onLink.preferred_life_time <= given.preferred && onLink.preferred_life_time >= given.preferred - Math.ceil(age) - 1, `preferred_lft ${onLink.preferred_life_time} s is dnsmasq's ${given?.preferred} s less ${age.toFixed(1)} s`)
  const leases = await waitFor("dnsmasq's lease file", () => readDnsmasqLeases(lab.dnsmasq!.leaseFile).leases.find(l => l.address === onLink.local), 5000)
  t.equal(leases.duid.replace(/:/g, ''), request.clientId, 'dnsmasq leased it to our DUID')
  await waitFor('the state bound', () => lab.status().state === 'bound', 5000)
  t.match(readFileSync(lab.resolvFragment, 'utf8'), /^nameserver 2001:db8:9::53$/m, "dnsmasq's DNS server in the fragment")
})

t.test('stateless: an RA with O=1 only leads to Information-request; DNS and search list go to the fragment in lab.dir, /etc/resolv.conf is unchanged', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const hostResolv = readFileSync('/etc/resolv.conf', 'utf8')
  const prefix64 = '2001:db8:a::'
  const lab = await ClientLab.create(t, {
    prefix64,
    radvd: { managed: false, other: true },
    dnsmasq: { ranges: [{ mode: 'stateless', start: `${prefix64}` }], dnsServers: [`${prefix64}53`, `${prefix64}54`], domainSearch: ['lab.example', 'corp.example'] },
  })
  const nsResolv = readFileSync(`/etc/netns/${lab.ns.name}/resolv.conf`, 'utf8')
  // no --stateless: the RA's flags alone choose stateless operation
  lab.startDaemon(['--sol-max-delay', '0'])
  const request = await lab.waitForPacket('an Information-request', p => p.fromClient && p.msgType === MessageType.InformationRequest, 10_000)
  t.notOk(request.optionCodes.includes(OPTION_IA_NA) || request.optionCodes.includes(OPTION_IA_PD), 'no IA in the Information-request')
  t.notOk(request.optionCodes.includes(2), 'no Server ID (RFC 8415 section 18.2.6)')
  for (const code of [OPTION_DNS_SERVERS, OPTION_DOMAIN_LIST, OPTION_INFORMATION_REFRESH_TIME]) {
    t.ok(request.oro.includes(code), `ORO asks for option ${code} (ORO: ${request.oro.join(',')})`)
  }
  const reply = await waitFor('the Reply', async () => replyTo(await lab.packets(), request), 5000)
  t.ok(reply, 'dnsmasq replies')
  const fragment = await waitFor('the resolv.conf fragment', () => {
    try { return readFileSync(lab.resolvFragment, 'utf8') } catch { return undefined }
  }, 5000)
  t.match(fragment, /^nameserver 2001:db8:a::53\nnameserver 2001:db8:a::54\nsearch lab\.example corp\.example$/m, `DNS servers and search list in the fragment:\n${fragment}`)
  await waitFor('the state informed', () => lab.status().state === 'informed', 5000)
  const status = lab.status()
  t.same(status.dnsServers, [`${prefix64}53`, `${prefix64}54`], 'ctl status shows the DNS servers')
  t.same(status.leases, [], 'and no lease')
  const inform = lab.hookCalls().find(env => env.reason === 'INFORM6')
  t.equal(inform?.new_dhcp6_name_servers, `${prefix64}53 ${prefix64}54`, 'the hook ran with INFORM6 and the name servers')
  t.match(inform?.new_dhcp6_domain_search, /^lab\.example\.? corp\.example\.?$/, 'and the search list')
  const sent = (await lab.packets()).filter(p => p.fromClient)
  t.notOk(sent.some(p => p.msgType === MessageType.Solicit), `no Solicit: ${sequence(sent)}`)
  t.same(await lab.leasedAddresses(), [], 'no address from DHCPv6 on eth0')
  t.equal(readFileSync('/etc/resolv.conf', 'utf8'), hostResolv, "the machine's /etc/resolv.conf is unchanged")
  t.equal(readFileSync(`/etc/netns/${lab.ns.name}/resolv.conf`, 'utf8'), nsResolv, "the namespace's resolv.conf is unchanged too")
})
