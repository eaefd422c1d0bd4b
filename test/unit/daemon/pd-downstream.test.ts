// --pd-downstream IF[:N] / "pd-downstream": what is accepted, and the message for each mistake
// (it names the flag or key, what is wrong and what to write instead); and how the downstream /64
// follows the lease's hook notices (the `ip` commands recorded; test/netns/client-pd-dad.test.ts
// runs them for real).
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { throwsUsage } from '../../lib/usage.js'
import { diffSettings, resolveSettings, type ConfigEnvironment, type RunFlags } from '../../../src/daemon/config.js'
import { DownstreamPrefix } from '../../../src/daemon/downstream.js'
import { createLogger } from '../../../src/log/logger.js'
import type { StoredLease } from '../../../src/state/lease-store.js'
import { AddressManager } from '../../../src/system/addresses.js'
import type { CommandRunner } from '../../../src/system/command.js'

const dir = mkdtempSync(join(tmpdir(), 'ra6dhcp-pd-downstream-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const env: ConfigEnvironment = { interfaceExists: name => ['eth0', 'eth1', 'lan0', 'br-lan', 'lan:1'].includes(name), cwd: dir }
const pd = (extra: RunFlags): RunFlags => ({ iaPd: '1', ...extra })

t.test('IF takes the first /64; IF:N the N-th, in decimal or 0x hex', async t => {
  t.same(resolveSettings(['eth0'], pd({ pdDownstream: 'lan0' }), env).interfaces.get('eth0')?.pdDownstream, { interface: 'lan0', subnetIndex: 0 })
  t.same(resolveSettings(['eth0'], pd({ pdDownstream: 'lan0:3' }), env).interfaces.get('eth0')?.pdDownstream, { interface: 'lan0', subnetIndex: 3 })
  t.same(resolveSettings(['eth0'], pd({ pdDownstream: 'br-lan:0x1f' }), env).interfaces.get('eth0')?.pdDownstream, { interface: 'br-lan', subnetIndex: 31 })
  t.same(resolveSettings(['eth0'], pd({ pdDownstream: 'lan:1:0' }), env).interfaces.get('eth0')?.pdDownstream, { interface: 'lan:1', subnetIndex: 0 },
    'a name ending in :DIGITS is read with an explicit index')
  t.same(resolveSettings(['eth0'], { iaPd: '1/56', pdDownstream: 'lan0:255' }, env).interfaces.get('eth0')?.pdDownstream, { interface: 'lan0', subnetIndex: 255 },
    'the last /64 of a /56 hint')
  t.notOk('pdDownstream' in resolveSettings(['eth0'], pd({}), env).interfaces.get('eth0')!, 'unset by default')
})

t.test('the config key, per interface or at the top level', async t => {
  const file = join(dir, 'ok.json')
  writeFileSync(file, JSON.stringify({ 'ia-pd': '1/48', interfaces: { eth0: { 'pd-downstream': 'lan0:0x10' } } }))
  t.same(resolveSettings([], { config: file }, env).interfaces.get('eth0')?.pdDownstream, { interface: 'lan0', subnetIndex: 16 })
  t.same(resolveSettings([], { config: file, pdDownstream: 'br-lan' }, env).interfaces.get('eth0')?.pdDownstream, { interface: 'br-lan', subnetIndex: 0 }, 'the flag wins')
})

t.test('a malformed value names the form', async t => {
  const form = 'must be IF or IF:N: the interface that gets a /64 of the delegated prefix and which /64 (N from 0, decimal or 0x hex; default 0)'
  throwsUsage(t, () => resolveSettings(['eth0'], pd({ pdDownstream: '' }), env), `--pd-downstream ${form} (got ''), e.g. --pd-downstream lan0:1`)
  throwsUsage(t, () => resolveSettings(['eth0'], pd({ pdDownstream: 'lan0:99999999999999999999' }), env),
    `--pd-downstream ${form} (got 'lan0:99999999999999999999'), e.g. --pd-downstream lan0:1`)
  const file = join(dir, 'number.json')
  writeFileSync(file, JSON.stringify({ interfaces: { eth0: { 'ia-pd': 1, 'pd-downstream': 3 } } }))
  throwsUsage(t, () => resolveSettings([], { config: file }, env), `config ${file}: interfaces.eth0.pd-downstream ${form} (got 3), e.g. "lan0:1"`)
})

t.test('the downstream interface must exist and be another, non-client interface', async t => {
  throwsUsage(t, () => resolveSettings(['eth0'], pd({ pdDownstream: 'lan9:1' }), env),
    "--pd-downstream: interface 'lan9' does not exist: list interfaces with `ip link` (in a namespace, run under `ip netns exec NS`)")
  throwsUsage(t, () => resolveSettings(['eth0'], pd({ pdDownstream: 'a/b' }), env),
    "--pd-downstream: 'a/b' is not an interface name: give a name shown by `ip link` (1-15 characters, no '/' or spaces)")
  throwsUsage(t, () => resolveSettings(['eth0'], pd({ pdDownstream: 'eth0' }), env),
    '--pd-downstream: eth0 is the interface the prefix is asked for on: the /64 goes to another interface (e.g. your LAN), name that one')
  const file = join(dir, 'two.json')
  writeFileSync(file, JSON.stringify({ interfaces: { eth0: { 'ia-pd': 1, 'pd-downstream': 'eth1' }, eth1: {} } }))
  throwsUsage(t, () => resolveSettings([], { config: file }, env),
    `config ${file}: interfaces.eth0.pd-downstream: eth1 is a DHCPv6 client interface of this daemon too: give the /64 to an interface the daemon does not run on`)
})

t.test('it needs an IA_PD, and a prefix-length hint that holds the /64', async t => {
  throwsUsage(t, () => resolveSettings(['eth0'], { pdDownstream: 'lan0' }, env),
    '--pd-downstream needs a delegated prefix, but eth0 asks for none: add --ia-pd 1 (config "ia-pd": 1)')
  throwsUsage(t, () => resolveSettings(['eth0'], { stateless: true, iaNa: '0', pdDownstream: 'lan0' }, env),
    '--pd-downstream needs a delegated prefix, but eth0 is stateless (Information-request only): drop one of them')
  throwsUsage(t, () => resolveSettings(['eth0'], { iaPd: '1/56', pdDownstream: 'lan0:256' }, env),
    '--pd-downstream: subnet index 256 does not fit in a /56 (0..255), the prefix length ia-pd asks for: choose a smaller /64 index or ask for a shorter prefix')
  throwsUsage(t, () => resolveSettings(['eth0'], { iaPd: '1/80', pdDownstream: 'lan0' }, env),
    '--pd-downstream needs a /64 or shorter prefix, but ia-pd asks for a /80: ask for one that holds /64s, e.g. --ia-pd 1/56')
})

t.test('a SIGHUP applies a changed pd-downstream by restarting that interface\'s client', async t => {
  const before = resolveSettings(['eth0'], pd({ pdDownstream: 'lan0:1' }), env)
  const after = resolveSettings(['eth0'], pd({ pdDownstream: 'lan0:2' }), env)
  t.same(diffSettings(before, after), { applied: ['eth0.pd-downstream'], needsRestart: [] })
  t.same(diffSettings(before, resolveSettings(['eth0'], pd({ pdDownstream: 'lan0:1' }), env)), { applied: [], needsRestart: [] })
})

function lease(obtainedAt: number, prefixes: Array<[string, number, number, number]>): StoredLease {
  return {
    interface: 'eth0', obtainedAt, serverDuid: '0001', iaNa: [], dnsServers: [], domainSearch: [], ntpServers: [],
    iaPd: [{ iaid: 1, t1: 100, t2: 160, prefixes: prefixes.map(([prefix, length, preferredLifetime, validLifetime]) => ({ prefix, length, preferredLifetime, validLifetime })) }],
  }
}

t.test('the downstream /64 follows the notices: assigned, refreshed, moved, withdrawn', async t => {
  const commands: string[] = []
  const runner: CommandRunner = { async run(argv) { commands.push(argv.join(' ')); return { stdout: '', stderr: '' } } }
  const lines: string[] = []
  const log = createLogger({ format: 'json', destination: { write: line => lines.push(line) } })
  let now = 1_000_000
  const downstream = new DownstreamPrefix({ interface: 'lan0', subnetIndex: 2 }, new AddressManager('lan0', runner), log, () => now)

  const bound = lease(now, [['2001:db8:80::', 56, 200, 300]])
  await downstream.onNotice({ reason: 'BOUND6', lease: bound })
  await downstream.onNotice({ reason: 'DELEGATED6', lease: bound, prefixes: ['2001:db8:80::/56'] })
  t.same(commands, ['ip -6 addr replace 2001:db8:80:2::1/64 dev lan0 valid_lft 300 preferred_lft 200'], 'the third /64\'s ::1 with the prefix\'s lifetimes, once for BOUND6 + DELEGATED6')
  t.match(JSON.parse(lines[0]!), { msg: 'assigned 2001:db8:80:2::1/64 from delegated 2001:db8:80::/56 on lan0 (preferred 200 s, valid 300 s)', downstream: 'lan0', delegatedPrefix: '2001:db8:80::/56' })
  now += 30_000
  t.match(downstream.status(), { interface: 'lan0', address: '2001:db8:80:2::1', prefixLength: 64, subnetIndex: 2, delegatedPrefix: '2001:db8:80::/56', validLifetime: 300, validLeft: 270, preferredLeft: 170 })

  // a Renew's Reply: lifetimes counted from the new lease's time
  await downstream.onNotice({ reason: 'RENEW6', lease: lease(now, [['2001:db8:80::', 56, 200, 300]]) })
  t.equal(commands[1], 'ip -6 addr replace 2001:db8:80:2::1/64 dev lan0 valid_lft 300 preferred_lft 200', 'RENEW6 refreshes the lifetimes')
  // a lease stored 10 s ago: 10 s less
  await downstream.onNotice({ reason: 'REBIND6', lease: lease(now - 10_000, [['2001:db8:80::', 56, 200, 300]]) })
  t.equal(commands[2], 'ip -6 addr replace 2001:db8:80:2::1/64 dev lan0 valid_lft 290 preferred_lft 190')

  // a new prefix: the old /64 goes first
  await downstream.onNotice({ reason: 'REBIND6', lease: lease(now, [['2001:db8:90::', 48, 200, 300]]) })
  t.same(commands.slice(3), ['ip -6 addr del 2001:db8:80:2::1/64 dev lan0', 'ip -6 addr replace 2001:db8:90:2::1/64 dev lan0 valid_lft 300 preferred_lft 200'])

  // an expiry that leaves only an IA_NA: withdrawn
  await downstream.onNotice({ reason: 'EXPIRE6', addresses: ['2001:db8:90::/48'], lease: { ...lease(now, []), iaPd: [] } })
  t.same(commands.slice(5), ['ip -6 addr del 2001:db8:90:2::1/64 dev lan0'])
  t.equal(downstream.status(), undefined, 'nothing in ctl status')

  // a prefix too long for the index: a warning, nothing assigned
  await downstream.onNotice({ reason: 'BOUND6', lease: lease(now, [['2001:db8:a0::', 63, 200, 300]]) })
  t.equal(commands.length, 6, 'no command for a /63 that has no /64 number 2')
  t.match(JSON.parse(lines.at(-1)!), { level: 'warn', msg: /no delegated prefix holds \/64 number 2 for lan0/ })

  // infinite lifetimes stay infinite; RELEASE6, STOP6 and a forgotten lease withdraw
  for (const end of ['RELEASE6', 'STOP6', 'forgotten'] as const) {
    await downstream.onNotice({ reason: 'BOUND6', lease: lease(now++, [['2001:db8:b0::', 56, 0xffffffff, 0xffffffff]]) })
    t.equal(commands.at(-1), 'ip -6 addr replace 2001:db8:b0:2::1/64 dev lan0 valid_lft forever preferred_lft forever')
    if (end === 'forgotten') await downstream.leaseForgotten()
    else await downstream.onNotice({ reason: end, lease: lease(now, [['2001:db8:b0::', 56, 0xffffffff, 0xffffffff]]) })
    t.equal(commands.at(-1), 'ip -6 addr del 2001:db8:b0:2::1/64 dev lan0', `${end} removes it`)
  }
})
