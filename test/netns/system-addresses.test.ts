// Address effects against the real kernel, inside test namespaces only: an IA address applied
// as /128 with its lifetimes (as `ip -j` reports them), then removed; a downstream /64 from a
// delegated prefix; and DAD failure detected when another node on the link holds the address.
import t from 'tap'
import { RealClock } from '../../src/client/clock.js'
import { AddressManager } from '../../src/system/addresses.js'
import { ExecRunner } from '../../src/system/command.js'
import { addressInSubnet, subnet64 } from '../../src/system/delegated-prefix.js'
import { NetnsLab } from '../lib/netns.js'
import { need } from '../lib/requirements.js'

t.test('apply /128 with lifetimes, update, remove; a /64 from a delegated prefix', async t => {
  if (!need(t, { root: true, commands: ['ip'] })) return
  const lab = new NetnsLab(t)
  const a = await lab.addNamespace('a')
  const b = await lab.addNamespace('b')
  await lab.link(a, 'a0', b, 'b0')
  const am = new AddressManager('a0', new ExecRunner({ netns: a.name }))

  await am.apply({ address: '2001:db8:5::10', validLifetime: 7200, preferredLifetime: 3600 })
  const applied = await am.find('2001:db8:5::10')
  t.equal(applied?.prefixLength, 128)
  t.equal(applied?.scope, 'global')
  t.ok(applied && applied.validLifetime <= 7200 && applied.validLifetime >= 7195, `valid lifetime ${applied?.validLifetime}`)
  t.ok(applied && applied.preferredLifetime <= 3600 && applied.preferredLifetime >= 3595, `preferred lifetime ${applied?.preferredLifetime}`)
  t.notOk(applied?.dadFailed)

  // Renew: the same address with new lifetimes replaces the old ones.
  await am.apply({ address: '2001:db8:5::10', validLifetime: 600, preferredLifetime: 0 })
  const renewed = await am.find('2001:db8:5::10')
  t.ok(renewed && renewed.validLifetime <= 600 && renewed.validLifetime >= 595, `renewed valid lifetime ${renewed?.validLifetime}`)
  t.equal(renewed?.preferredLifetime, 0, 'deprecated')
  t.equal((await am.list()).filter(x => x.address === '2001:db8:5::10').length, 1, 'replaced, not duplicated')

  await am.apply({ address: '2001:db8:5::11', validLifetime: 0xffffffff, preferredLifetime: 0xffffffff, noDad: true })
  const forever = await am.find('2001:db8:5::11')
  t.equal(forever?.validLifetime, 0xffffffff)
  t.ok(forever?.noDad)

  t.equal(await am.remove('2001:db8:5::10'), true)
  t.equal(await am.find('2001:db8:5::10'), undefined, 'removed')
  t.equal(await am.remove('2001:db8:5::10'), false, 'removing twice is not an error')

  const downstream = addressInSubnet(subnet64('2001:db8:100::', 56, 2))
  await am.apply({ address: downstream, prefixLength: 64, validLifetime: 3600, preferredLifetime: 1800 })
  const sub = await am.find('2001:db8:100:2::1')
  t.equal(sub?.prefixLength, 64)
  const { stdout } = await a.run(['ip', '-6', 'route', 'show', 'dev', 'a0'])
  t.match(stdout, /2001:db8:100:2::\/64/, 'the on-link /64 route exists')
  await lab.cleanup()
})

t.test('DAD failure is detected when the address is already used on the link; a unique one passes', async t => {
  if (!need(t, { root: true, commands: ['ip'] })) return
  const lab = new NetnsLab(t)
  const a = await lab.addNamespace('da', { dad: true })
  const b = await lab.addNamespace('db', { dad: true })
  await lab.link(a, 'da0', b, 'db0')
  const inB = new AddressManager('db0', new ExecRunner({ netns: b.name }))
  const inA = new AddressManager('da0', new ExecRunner({ netns: a.name }))
  await inB.apply({ address: '2001:db8:6::10', validLifetime: 600, preferredLifetime: 600, noDad: true })

  await inB.apply({ address: '2001:db8:6::30', validLifetime: 600, preferredLifetime: 600, noDad: true })

  const clock = new RealClock()
  // A leased (finite) address is deleted by the kernel on DAD failure; an infinite one is kept, flagged.
  await inA.apply({ address: '2001:db8:6::10', validLifetime: 600, preferredLifetime: 600 })
  await inA.apply({ address: '2001:db8:6::30', validLifetime: 0xffffffff, preferredLifetime: 0xffffffff })
  await inA.apply({ address: '2001:db8:6::20', validLifetime: 600, preferredLifetime: 600 })
  t.ok((await inA.find('2001:db8:6::10'))?.tentative, 'starts tentative')
  const [duplicate, flagged, unique] = await Promise.all([
    inA.waitForDad('2001:db8:6::10', clock, { timeoutMs: 8000, pollMs: 100 }),
    inA.waitForDad('2001:db8:6::30', clock, { timeoutMs: 8000, pollMs: 100 }),
    inA.waitForDad('2001:db8:6::20', clock, { timeoutMs: 8000, pollMs: 100 }),
  ])
  t.equal(duplicate, 'dadfailed', 'finite-lifetime duplicate: vanished while tentative')
  t.equal(flagged, 'dadfailed', 'infinite-lifetime duplicate: flagged dadfailed')
  t.ok((await inA.find('2001:db8:6::30'))?.dadFailed, 'ip -j shows the dadfailed flag')
  t.equal(unique, 'ok')
  t.equal(await inA.waitForDad('2001:db8:6::99', clock), 'absent')
  await lab.cleanup()
})
