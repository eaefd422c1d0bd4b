import t from 'tap'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { VirtualClock } from '../../../src/client/clock.js'
import { AddressManager, canonicalIPv6 } from '../../../src/system/addresses.js'
import { CommandError, ExecRunner, type CommandResult, type CommandRunner } from '../../../src/system/command.js'
import { addressInSubnet, subnet64 } from '../../../src/system/delegated-prefix.js'
import { hookEnvironment, runHook } from '../../../src/system/hooks.js'
import { checkFragmentPath, defaultResolvFragmentPath, formatResolvFragment, removeResolvFragment, writeResolvFragment } from '../../../src/system/resolv.js'
import { UsageError } from '../../../src/cli/usage-error.js'

function tempDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ra6dhcp-system-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Records commands; answers `ip -j` with the queued outputs and fails commands matching `failOn`. */
class RecordingRunner implements CommandRunner {
  calls: string[][] = []
  jsonOutputs: string[] = []
  failOn: { pattern: RegExp; stderr: string } | undefined
  async run(argv: readonly string[]): Promise<CommandResult> {
    this.calls.push([...argv])
    if (this.failOn?.pattern.test(argv.join(' '))) throw new CommandError(argv, 2, this.failOn.stderr)
    if (argv.includes('-j')) return { stdout: this.jsonOutputs.shift() ?? '[]', stderr: '' }
    return { stdout: '', stderr: '' }
  }
}

const ipJson = (addrs: Record<string, unknown>[]): string => JSON.stringify([{ ifname: 'eth0', addr_info: addrs }])

t.test('addresses: /128 with lifetimes, forever for infinity, nodad only when asked', async t => {
  const runner = new RecordingRunner()
  const am = new AddressManager('eth0', runner)
  await am.apply({ address: '2001:db8::10', validLifetime: 7200, preferredLifetime: 3600 })
  await am.apply({ address: '2001:db8::11', validLifetime: 0xffffffff, preferredLifetime: 0xffffffff, noDad: true })
  t.same(runner.calls, [
    ['ip', '-6', 'addr', 'replace', '2001:db8::10/128', 'dev', 'eth0', 'valid_lft', '7200', 'preferred_lft', '3600'],
    ['ip', '-6', 'addr', 'replace', '2001:db8::11/128', 'dev', 'eth0', 'valid_lft', 'forever', 'preferred_lft', 'forever', 'nodad'],
  ])
  await t.rejects(am.apply({ address: '2001:db8::12', validLifetime: 10, preferredLifetime: 20 }), /preferred lifetime 20 > valid lifetime 10/)
  await t.rejects(am.apply({ address: '10.0.0.1', validLifetime: 10, preferredLifetime: 5 }), /not an IPv6 address/)
  await t.rejects(am.apply({ address: '2001:db8::13', validLifetime: -1, preferredLifetime: 0 }), /32-bit lifetime/)
  t.equal(runner.calls.length, 2, 'nothing run for rejected input')
})

t.test('addresses: remove reports a missing address as false, other failures throw', async t => {
  const runner = new RecordingRunner()
  const am = new AddressManager('eth0', runner)
  t.equal(await am.remove('2001:db8::10'), true)
  t.same(runner.calls[0], ['ip', '-6', 'addr', 'del', '2001:db8::10/128', 'dev', 'eth0'])
  runner.failOn = { pattern: /del/, stderr: 'Error: ipv6: address not found.' }
  t.equal(await am.remove('2001:db8::10'), false)
  runner.failOn = { pattern: /del/, stderr: 'Cannot find device "eth0"' }
  await t.rejects(am.remove('2001:db8::10'), CommandError)
})

t.test('addresses: list parses ip -j, DAD watch reports ok, dadfailed, absent, timeout', async t => {
  const runner = new RecordingRunner()
  const am = new AddressManager('eth0', runner)
  runner.jsonOutputs.push(ipJson([
    { family: 'inet6', local: '2001:0db8:0::10', prefixlen: 128, scope: 'global', tentative: true, dynamic: true, valid_life_time: 7200, preferred_life_time: 3600 },
    { family: 'inet', local: '10.0.0.1', prefixlen: 8 },
  ]))
  t.same(await am.list(), [{ address: '2001:db8::10', prefixLength: 128, scope: 'global', validLifetime: 7200, preferredLifetime: 3600, tentative: true, dadFailed: false, noDad: false }])

  const clock = new VirtualClock()
  const tentative = ipJson([{ family: 'inet6', local: '2001:db8::10', tentative: true }])
  runner.jsonOutputs = [tentative, tentative, ipJson([{ family: 'inet6', local: '2001:db8::10', tentative: true, dadfailed: true }])]
  const failed = am.waitForDad('2001:db8::10', clock, { pollMs: 100 })
  for (let i = 0; i < 5; i++) { await new Promise(r => setImmediate(r)); clock.advance(100) }
  t.equal(await failed, 'dadfailed')

  runner.jsonOutputs = [tentative, ipJson([{ family: 'inet6', local: '2001:db8::10' }])]
  const ok = am.waitForDad('2001:db8::10', clock, { pollMs: 100 })
  for (let i = 0; i < 3; i++) { await new Promise(r => setImmediate(r)); clock.advance(100) }
  t.equal(await ok, 'ok')

  runner.jsonOutputs = ['[]']
  t.equal(await am.waitForDad('2001:db8::10', clock), 'absent')

  // The kernel deletes a finite-lifetime address whose DAD failed: tentative, then gone.
  runner.jsonOutputs = [tentative, '[]']
  const vanished = am.waitForDad('2001:db8::10', clock, { pollMs: 100 })
  for (let i = 0; i < 3; i++) { await new Promise(r => setImmediate(r)); clock.advance(100) }
  t.equal(await vanished, 'dadfailed')

  // ... possibly before the first look: gone at once after the caller added it is a failed DAD.
  runner.jsonOutputs = ['[]']
  t.equal(await am.waitForDad('2001:db8::10', clock, { justApplied: true }), 'dadfailed')

  runner.jsonOutputs = Array(50).fill(tentative)
  const slow = am.waitForDad('2001:db8::10', clock, { pollMs: 100, timeoutMs: 1000 })
  for (let i = 0; i < 15; i++) { await new Promise(r => setImmediate(r)); clock.advance(100) }
  t.equal(await slow, 'timeout')
})

t.test('exec runner returns output and reports failures with exit code and stderr', async t => {
  const direct = new ExecRunner()
  t.equal((await direct.run(['sh', '-c', 'echo hi'])).stdout, 'hi\n')
  const failure = await direct.run(['sh', '-c', 'echo oops >&2; exit 3']).then(() => undefined, (e: unknown) => e)
  t.ok(failure instanceof CommandError, 'rejects with CommandError')
  if (failure instanceof CommandError) {
    t.equal(failure.exitCode, 3)
    t.match(failure.stderr, /oops/)
    t.match(failure.message, /sh -c .* failed \(3\): oops/)
  }
})

t.test('a /64 from a delegated prefix', async t => {
  t.equal(subnet64('2001:db8:1::', 56, 0), '2001:db8:1::')
  t.equal(subnet64('2001:db8:1::', 56, 3), '2001:db8:1:3::')
  t.equal(subnet64('2001:db8:1:ff00::', 56, 255), '2001:db8:1:ffff::')
  t.equal(subnet64('2001:db8:1:2::', 64, 0), '2001:db8:1:2::')
  t.equal(subnet64('2001:db8:1:2:3::', 48, 1), '2001:db8:1:1::', 'host bits of the prefix are ignored')
  t.throws(() => subnet64('2001:db8:1::', 56, 256), /does not fit/)
  t.throws(() => subnet64('2001:db8:1::', 72, 0), /\/64 or shorter/)
  t.equal(addressInSubnet('2001:db8:1:3::'), '2001:db8:1:3::1')
  t.equal(canonicalIPv6('2001:DB8:0:0:0:0:0:0001'), '2001:db8::1')
})

t.test('resolv.conf fragment: atomic, 0644, zone for link-local servers, never /etc/resolv.conf', async t => {
  const dir = tempDir(t)
  const path = defaultResolvFragmentPath(join(dir, 'state'), 'eth0')
  t.equal(path, join(dir, 'state', 'eth0.resolv.conf'))
  await writeResolvFragment(path, 'eth0', { nameservers: ['2001:db8::53', 'fe80::1'], search: ['example.com.', 'lab.example'] })
  t.equal(readFileSync(path, 'utf8'), [
    '# DNS from DHCPv6 on eth0, written by ra6dhcp; rewritten on every lease change.',
    'nameserver 2001:db8::53',
    'nameserver fe80::1%eth0',
    'search example.com lab.example',
    '',
  ].join('\n'))
  t.equal(statSync(path).mode & 0o777, 0o644)
  t.throws(() => checkFragmentPath('/etc/resolv.conf'), UsageError)
  t.throws(() => checkFragmentPath('/etc/../etc/resolv.conf'), /refusing/)
  t.throws(() => formatResolvFragment('eth0', { nameservers: ['1.2.3.4'], search: [] }), /not an IPv6/)
  t.throws(() => formatResolvFragment('eth0', { nameservers: [], search: ['a b'] }), /cannot be written/)
  await removeResolvFragment(path)
  await removeResolvFragment(path)
  t.notOk(existsSync(path))
})

t.test('hook environment uses dhclient-script names', async t => {
  const env = hookEnvironment({
    reason: 'BOUND6',
    interface: 'eth0',
    new: {
      ip6Address: '2001:db8::10', ip6Prefixlen: 128, iaid: 1, maxLife: 7200, preferredLife: 3600,
      nameServers: ['2001:db8::53', '2001:db8::54'], domainSearch: ['example.com'], serverId: Buffer.from('000100', 'hex'),
    },
    old: { ip6Address: '2001:db8::9' },
  })
  t.same(env, {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    reason: 'BOUND6',
    interface: 'eth0',
    new_ip6_address: '2001:db8::10',
    new_ip6_prefixlen: '128',
    new_iaid: '00:00:00:01',
    new_max_life: '7200',
    new_preferred_life: '3600',
    new_dhcp6_name_servers: '2001:db8::53 2001:db8::54',
    new_dhcp6_domain_search: 'example.com',
    new_dhcp6_server_id: '0:1:0',
    old_ip6_address: '2001:db8::9',
  })
  const pd = hookEnvironment({ reason: 'DELEGATED6', interface: 'eth0', new: { ip6Prefix: '2001:db8:1::/56', iaid: 2 }, downstreamInterface: 'lan0' })
  t.equal(pd.new_ip6_prefix, '2001:db8:1::/56')
  t.equal(pd.downstream_interface, 'lan0')
})

t.test('hook values are formatted as ISC dhclient 4.4 formats them', async t => {
  const duidLlt = Buffer.from('000100012a2b2c2d525400000001', 'hex')
  const env = hookEnvironment({
    reason: 'RENEW6', interface: 'eth0',
    new: {
      ip6Prefix: '2001:db8:1::/56', iaid: 0x0a0b0c0d, starts: 1_700_000_000, lifeStarts: 1_700_000_000, maxLife: 300, preferredLife: 200, renew: 150, rebind: 240,
      serverId: duidLlt, clientId: Buffer.from('00030001020000000001', 'hex'),
    },
    old: { iaid: 0x41424344, serverId: Buffer.from('ab$c"|\\\x00', 'latin1') },
  })
  const own = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('new_') || k.startsWith('old_')))
  t.same(own, {
    new_ip6_prefix: '2001:db8:1::/56',
    // print_hex_1: two hex digits per byte, colon-separated
    new_iaid: '0a:0b:0c:0d',
    new_starts: '1700000000', new_life_starts: '1700000000',
    new_max_life: '300', new_preferred_life: '200', new_renew: '150', new_rebind: '240',
    // pretty_print_option "X": %x per byte, no zero padding, as in dhclient6.leases
    new_dhcp6_server_id: '0:1:0:1:2a:2b:2c:2d:52:54:0:0:0:1',
    new_dhcp6_client_id: '0:3:0:1:2:0:0:0:0:1',
    // an all-printable IAID is printed as quoted text, an all-printable option (trailing NUL
    // allowed) as text with shell specials escaped
    old_iaid: '"ABCD"',
    old_dhcp6_server_id: 'ab\\$c\\"\\|\\\\',
  })
})

t.test('hook runs with its environment, output collected line by line, exit status reported', async t => {
  const dir = tempDir(t)
  const script = join(dir, 'hook.sh')
  writeFileSync(script, '#!/bin/sh\necho "reason=$reason if=$interface addr=$new_ip6_address"\necho "to stderr" >&2\nprintf "no newline"\nexit 4\n')
  chmodSync(script, 0o755)
  const lines: string[] = []
  const result = await runHook(script, { reason: 'RENEW6', interface: 'eth0', new: { ip6Address: '2001:db8::10' } }, { onLine: (l, s) => lines.push(`${s}:${l}`) })
  t.equal(result.exitCode, 4)
  t.notOk(result.timedOut)
  t.ok(lines.includes('stdout:reason=RENEW6 if=eth0 addr=2001:db8::10'))
  t.ok(lines.includes('stderr:to stderr'))
  t.ok(lines.includes('stdout:no newline'))
  t.equal(result.output.length, 3)
})

t.test('a hook that hangs is killed with its children after the timeout; a missing hook is reported', async t => {
  const dir = tempDir(t)
  const script = join(dir, 'slow.sh')
  const marker = join(dir, 'child-survived')
  writeFileSync(script, `#!/bin/sh\n(sleep 1.5; touch ${marker}) &\nsleep 30\n`)
  chmodSync(script, 0o755)
  const started = Date.now()
  const result = await runHook(script, { reason: 'STOP6', interface: 'eth0' }, { timeoutMs: 300 })
  t.ok(result.timedOut)
  t.equal(result.signal, 'SIGKILL')
  t.ok(Date.now() - started < 1400, 'returned soon after the timeout')
  await new Promise(r => setTimeout(r, 1500))
  t.notOk(existsSync(marker), 'the background child of the hook was killed too')
  const missing = await runHook(join(dir, 'nope.sh'), { reason: 'STOP6', interface: 'eth0' })
  t.equal(missing.exitCode, null)
  t.match(missing.output[0] ?? '', /cannot run hook .*nope\.sh.*ENOENT/)
})
