// The namespace library itself: safety properties the other integration tests rely on.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { NetnsLab } from '../lib/netns.js'
import { need } from '../lib/requirements.js'

t.test('two namespaces joined by veth, each with its own resolv.conf, all removed at cleanup', async t => {
  if (!need(t, { root: true, commands: ['ip'] })) return
  const hostResolv = readFileSync('/etc/resolv.conf', 'utf8')
  const lab = new NetnsLab()
  try {
    const a = await lab.addNamespace('a')
    const b = await lab.addNamespace('b')
    await lab.link(a, 'ra0', b, 'rb0')
    const ll = await lab.waitForLinkLocal(b, 'rb0')
    const ping = await a.run(['ping', '-6', '-c', '1', '-W', '2', `${ll}%ra0`])
    t.match(ping.stdout, /1 received/)
    const inside = await a.run(['cat', '/etc/resolv.conf'])
    t.match(inside.stdout, new RegExp(`ra6dhcp test namespace ${a.name}`))
    const sleeper = b.spawn('sleeper', ['sleep', '60'])
    t.ok(sleeper.pid > 0)
    const rootLinks = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })
    t.notMatch(rootLinks, /ra0|rb0/, 'no veth end in the root namespace')
    await lab.cleanup()
    t.equal(await sleeper.exited, 'SIGTERM', 'tracked process ended by PID')
    t.notOk(existsSync(`/etc/netns/${a.name}`), 'per-namespace resolv.conf removed')
    const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    t.notMatch(namespaces, new RegExp(lab.prefix), 'namespaces deleted')
  } finally {
    await lab.cleanup()
  }
  t.equal(readFileSync('/etc/resolv.conf', 'utf8'), hostResolv, "the machine's resolv.conf is untouched")
})
