import t from 'tap'
import { throwsUsage } from '../../lib/usage.js'
import type { StartSpec } from '../../../src/client/api.js'
import { parseControlArgv, splitWords, startSpecFromWords, type VerbContext } from '../../../src/daemon/verbs.js'

const defaults: Record<string, StartSpec> = {
  eth0: { mode: 'stateful', iaNa: [101], iaPd: [{ iaid: 201, prefixLength: 56 }], dns: true },
  eth1: { mode: 'stateless', iaNa: [], iaPd: [], dns: false },
}
const context: VerbContext = {
  interfaces: ['eth0', 'eth1'],
  defaultSpec: ifname => defaults[ifname]!,
  persistedIaids: ifname => (ifname === 'eth0' ? { na: [101, 102], pd: [201] } : { na: [], pd: [] }),
}
const one: VerbContext = { ...context, interfaces: ['eth0'] }

function spec(words: string, ifname = 'eth0'): StartSpec {
  return startSpecFromWords(splitWords(words), ifname, context)
}

t.test('start grammar: iana, prefix, inforeq, dns, iaid= and len=', async t => {
  t.same(spec('iana iaid=1'), { mode: 'stateful', iaNa: [1], iaPd: [], dns: false })
  t.same(spec('iana iaid=1 dns'), { mode: 'stateful', iaNa: [1], iaPd: [], dns: true })
  t.same(spec('iana'), { mode: 'stateful', iaNa: [101], iaPd: [], dns: false }, 'iana without iaid takes the persisted IAID')
  t.same(spec('iana iana'), { mode: 'stateful', iaNa: [101, 102], iaPd: [] , dns: false })
  t.same(spec('iana iaid=101 iana'), { mode: 'stateful', iaNa: [101, 102], iaPd: [], dns: false }, 'an explicit iaid is not handed out twice')
  t.same(spec('prefix'), { mode: 'stateful', iaNa: [], iaPd: [{ iaid: 201 }], dns: false })
  t.same(spec('prefix iaid=7 len=48'), { mode: 'stateful', iaNa: [], iaPd: [{ iaid: 7, prefixLength: 48 }], dns: false })
  t.same(spec('prefix len=60 iaid=7'), { mode: 'stateful', iaNa: [], iaPd: [{ iaid: 7, prefixLength: 60 }], dns: false }, 'qualifiers in any order')
  t.same(spec('iana iaid=1 prefix iaid=2 len=56 dns'), { mode: 'stateful', iaNa: [1], iaPd: [{ iaid: 2, prefixLength: 56 }], dns: true })
  t.same(spec('iana iaid=4294967295'), { mode: 'stateful', iaNa: [4294967295], iaPd: [], dns: false })
  t.same(spec('inforeq'), { mode: 'stateless', iaNa: [], iaPd: [], dns: false })
  t.same(spec('inforeq dns'), { mode: 'stateless', iaNa: [], iaPd: [], dns: true })
  t.same(spec(''), defaults.eth0, 'bare start does what the config says')
  t.same(spec('dns', 'eth1'), { mode: 'stateless', iaNa: [], iaPd: [], dns: true }, 'start dns adds DNS to the configured default')
})

t.test('start errors name the fix', async t => {
  const cases: [string, string][] = [
    ['iaid=1', "'iaid=1' must follow iana or prefix, e.g. start iana iaid=1"],
    ['iana len=56', "'len=56' is a prefix-length hint: it must follow prefix, e.g. start prefix len=56"],
    ['iana iaid=x', "'iaid=x': iaid must be a whole number from 0 to 4294967295, e.g. iaid=1"],
    ['iana iaid=4294967296', "'iaid=4294967296': iaid must be a whole number from 0 to 4294967295, e.g. iaid=1"],
    ['iana iaid=1 iaid=2', "'iaid=2': this iana already has iaid=1: give each IA one iaid"],
    ['prefix len=129', "'len=129': len must be a whole number from 0 to 128, e.g. len=56"],
    ['prefix len=0', "'len=0': len must be from 1 to 128, e.g. len=56"],
    ['iana iaid=3 iana iaid=3', 'iaid=3 is given to two iana IAs: give each a different iaid'],
    ['iana iana iana', 'iana number 3 on eth0 has no persisted IAID: give it one, e.g. iana iaid=3 (or raise ia-na in the config)'],
    ['inforeq iana', 'inforeq asks for no addresses: use it alone (start inforeq dns), or ask for iana/prefix without it'],
    ['ia_na', "unknown word 'ia_na' in start: expected iana, inforeq, prefix, iaid=N, len=L or dns (start [IF] [iana [iaid=N] | inforeq | prefix [iaid=N] [len=L]]... [dns])"],
  ]
  for (const [words, message] of cases) {
    throwsUsage(t, () => spec(words), message, words)
  }
})

t.test('verbs, interfaces and --interface', async t => {
  t.same(parseControlArgv(['status'], context), { verb: 'status', interfaces: ['eth0', 'eth1'] })
  t.same(parseControlArgv(['status', '--json'], context), { verb: 'status', interfaces: ['eth0', 'eth1'] })
  t.same(parseControlArgv(['status', 'eth1'], context), { verb: 'status', interfaces: ['eth1'] })
  for (const verb of ['stop', 'restart', 'release', 'ifdown', 'ifup']) {
    t.same(parseControlArgv([verb], context), { verb, interfaces: ['eth0', 'eth1'] })
    t.same(parseControlArgv([verb, 'eth0'], context), { verb, interfaces: ['eth0'] })
    t.same(parseControlArgv([verb], context, 'eth1'), { verb, interfaces: ['eth1'] })
  }
  const start = parseControlArgv(['start', 'eth0', 'iana', 'iaid=1', 'dns'], context)
  t.equal(start.verb, 'start')
  t.same(start.interfaces, ['eth0'])
  t.same([...start.start!], [['eth0', { mode: 'stateful', iaNa: [1], iaPd: [], dns: true }]])
  const both = parseControlArgv(['start', 'inforeq'], context)
  t.same([...both.start!.keys()], ['eth0', 'eth1'], 'start without an interface applies to all')
  const viaFlag = parseControlArgv(['start', 'iana'], one, 'eth0')
  t.same([...viaFlag.start!], [['eth0', { mode: 'stateful', iaNa: [101], iaPd: [], dns: false }]])
})

t.test('verb errors name the fix', async t => {
  const cases: [string[], string, string | undefined][] = [
    [[], 'no verb: give one of start, stop, restart, release, ifdown, ifup, status', undefined],
    [['begin'], "unknown verb 'begin': use one of start, stop, restart, release, ifdown, ifup, status", undefined],
    [['stop', 'eth9'], "interface 'eth9' is not run by this daemon (it runs on eth0, eth1): name one of those, or start the daemon on it", undefined],
    [['start', 'eth9', 'iana'], "'eth9' is neither a start word (iana, inforeq, prefix, iaid=N, len=L, dns) nor an interface of this daemon (eth0, eth1): start [IF] [iana [iaid=N] | inforeq | prefix [iaid=N] [len=L]]... [dns]", undefined],
    [['start', 'eth0', 'eth1'], "'eth1' is neither a start word (iana, inforeq, prefix, iaid=N, len=L, dns) nor an interface of this daemon (eth0, eth1): start [IF] [iana [iaid=N] | inforeq | prefix [iaid=N] [len=L]]... [dns]", undefined],
    [['release', 'now'], "interface 'now' is not run by this daemon (it runs on eth0, eth1): name one of those, or start the daemon on it", undefined],
    [['release', 'eth0', 'eth1'], "'release' takes only an interface name (got 'eth1'): e.g. release eth0", undefined],
    [['stop', 'dns'], "'stop' takes only an interface name (got 'dns'): e.g. stop eth0", undefined],
    [['status'], "interface 'wlan0' is not run by this daemon (it runs on eth0, eth1): name one of those, or start the daemon on it", 'wlan0'],
    [['stop', 'eth0'], "two interfaces given (--interface eth1 and 'eth0'): give one", 'eth1'],
  ]
  for (const [argv, message, iface] of cases) {
    throwsUsage(t, () => parseControlArgv(argv, context, iface), message, argv.join(' '))
  }
})

t.test('plain text lines split on whitespace', async t => {
  t.same(splitWords('  start\tiana  iaid=1 \n'), ['start', 'iana', 'iaid=1'])
  t.same(splitWords(''), [])
})
