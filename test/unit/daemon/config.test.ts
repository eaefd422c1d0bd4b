import t from 'tap'
import { UsageError } from '../../../src/cli/usage-error.js'
import { throwsUsage } from '../../lib/usage.js'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { diffSettings, parseConfigText, resolveSettings, type ConfigEnvironment, type RunFlags } from '../../../src/daemon/config.js'

const dir = mkdtempSync(join(tmpdir(), 'ra6dhcp-config-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const env: ConfigEnvironment = { interfaceExists: name => ['eth0', 'eth1', 'lo'].includes(name), cwd: dir }

function config(name: string, value: unknown): string {
  const file = join(dir, name)
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value))
  return file
}

t.test('defaults: state dir, control socket, DNS fragment under the state dir, one IA_NA, rfc8415', async t => {
  const s = resolveSettings(['eth0'], {}, env)
  t.equal(s.stateDir, '/var/lib/ra6dhcp')
  t.equal(s.controlSocket, '/run/ra6dhcp/ra6dhcp.sock')
  t.equal(s.raSource, 'auto')
  t.equal(s.logFormat, 'pretty')
  t.equal(s.logLevel, 'info')
  t.same(s.duid, { type: 'llt' })
  t.same(s.interfaces.get('eth0'), {
    profile: 'rfc8415', onRa: 'auto', releaseOnStop: false, rapidCommit: false, reconfigureAccept: false, solMaxDelay: 1,
    iaNa: 1, iaPd: { count: 0 }, stateless: false, resolvConf: '/var/lib/ra6dhcp/eth0.resolv.conf',
  })
})

t.test('every flag is applied', async t => {
  const hook = join(dir, 'hook.sh')
  writeFileSync(hook, '#!/bin/sh\n')
  chmodSync(hook, 0o755)
  const flags: RunFlags = {
    profile: 'rfc3315', raSource: 'rtnetlink', onRa: 'solicit', stateDir: 'state', logFormat: 'json', logLevel: 'debug',
    hook, controlSocket: 'ctl.sock', resolvConf: 'dns/{if}.conf', releaseOnStop: true, rapidCommit: true,
    reconfigureAccept: true, solMaxDelay: '0', duidType: 'en:32473:00:11:aa:bb', iaNa: '2', iaPd: '1/56',
  }
  const s = resolveSettings(['eth0', 'eth1'], flags, env)
  t.equal(s.stateDir, join(dir, 'state'), 'relative paths resolve against the working directory')
  t.equal(s.controlSocket, join(dir, 'ctl.sock'))
  t.equal(s.raSource, 'rtnetlink')
  t.equal(s.logFormat, 'json')
  t.equal(s.logLevel, 'debug')
  t.same(s.duid, { type: 'en', enterpriseNumber: 32473, identifierHex: '0011aabb' })
  t.same([...s.interfaces.keys()], ['eth0', 'eth1'])
  t.same(s.interfaces.get('eth1'), {
    profile: 'rfc3315', onRa: 'solicit', releaseOnStop: true, rapidCommit: true, reconfigureAccept: true, solMaxDelay: 0,
    iaNa: 2, iaPd: { count: 1, prefixLength: 56 }, stateless: false, hook, resolvConf: join(dir, 'dns/eth1.conf'),
  })
  t.same(resolveSettings(['eth0'], { stateless: true }, env).interfaces.get('eth0')?.stateless, true)
  t.same(resolveSettings(['eth0'], { duidType: '00:03:00:01:02:00:00:00:00:01' }, env).duid, { type: 'raw', hex: '00030001020000000001' })
})

t.test('config file: top level, per-interface sections, flags win; relative paths from the file', async t => {
  const file = config('ra6dhcp.json', {
    'profile': 'rfc3315', 'log-level': 'warn', 'state-dir': 'st', 'sol-max-delay': 0.5, 'ia-pd': '1',
    'interfaces': { eth0: { 'ia-na': 0, 'ia-pd': '2/60', 'rapid-commit': true }, eth1: { 'stateless': true, 'ia-pd': 0, 'reconfigure-accept': true } },
  })
  const s = resolveSettings([], { config: file }, env)
  t.same([...s.interfaces.keys()], ['eth0', 'eth1'], 'interfaces come from the file when none are named')
  t.equal(s.configFile, file)
  t.equal(s.stateDir, join(dir, 'st'))
  t.equal(s.logLevel, 'warn')
  t.match(s.interfaces.get('eth0'), { profile: 'rfc3315', iaNa: 0, iaPd: { count: 2, prefixLength: 60 }, rapidCommit: true, solMaxDelay: 0.5 })
  t.match(s.interfaces.get('eth1'), { stateless: true, iaNa: 0, iaPd: { count: 0 }, reconfigureAccept: true })
  t.equal(s.interfaces.get('eth0')?.reconfigureAccept, false, 'reconfigure-accept is per interface, off by default')
  const overridden = resolveSettings(['eth0'], { config: file, profile: 'rfc8415', iaPd: '1/48' }, env)
  t.same([...overridden.interfaces.keys()], ['eth0'], 'named interfaces select from the file')
  t.match(overridden.interfaces.get('eth0'), { profile: 'rfc8415', iaPd: { count: 1, prefixLength: 48 }, rapidCommit: true })
})

t.test('flag errors name the flag, the value and the fix', async t => {
  const cases: [RunFlags, string][] = [
    [{ profile: 'rfc9999' }, "--profile must be rfc8415 or rfc3315 (got 'rfc9999')"],
    [{ raSource: 'netlink' }, "--ra-source must be one of auto, ra6mon, rtnetlink (got 'netlink')"],
    [{ onRa: 'always' }, "--on-ra must be one of auto, solicit, ignore (got 'always')"],
    [{ logFormat: 'xml' }, "--log-format must be pretty or json (got 'xml')"],
    [{ logLevel: 'verbose' }, "--log-level must be one of fatal, error, warn, info, debug, trace, silent (got 'verbose')"],
    [{ solMaxDelay: '-1' }, "--sol-max-delay must be a number of seconds from 0 to 3600 (got '-1'), e.g. --sol-max-delay 0 to send the first Solicit at once"],
    [{ solMaxDelay: 'soon' }, "--sol-max-delay must be a number of seconds from 0 to 3600 (got 'soon'), e.g. --sol-max-delay 0 to send the first Solicit at once"],
    [{ iaNa: 'two' }, "--ia-na must be a whole number of IAs from 0 to 16 (got 'two'), e.g. --ia-na 1"],
    [{ iaNa: '17' }, "--ia-na must be a whole number of IAs from 0 to 16 (got '17'), e.g. --ia-na 1"],
    [{ iaPd: '1/129' }, "--ia-pd must be N or N/LEN: N prefixes (0 to 16) with an optional prefix-length hint LEN from 1 to 128 (got '1/129'), e.g. --ia-pd 1/56"],
    [{ iaPd: '/56' }, "--ia-pd must be N or N/LEN: N prefixes (0 to 16) with an optional prefix-length hint LEN from 1 to 128 (got '/56'), e.g. --ia-pd 1/56"],
    [{ iaNa: '0' }, 'nothing to ask for on eth0: ia-na and ia-pd are both 0: give --ia-na 1, --ia-pd 1 or --stateless'],
    [{ stateless: true, iaNa: '1' }, '--ia-na asks for IAs but stateless is set for eth0: stateless means Information-request only, so drop one of them'],
    [{ duidType: 'en' }, '--duid-type en: DUID-EN needs your IANA enterprise number and an identifier in hex: write en:ENTERPRISE-NUMBER:HEX, e.g. en:32473:0011aabb'],
    [{ duidType: 'lltt' }, "--duid-type must be llt, ll, uuid, en:ENTERPRISE-NUMBER:HEX-IDENTIFIER or the whole DUID in hex (e.g. 00:03:00:01:02:00:00:00:00:01) (got 'lltt': DUID 'lltt' is not hex: write bytes as 00:01:00:01:... or 00010001...)"],
    [{ hook: 'missing.sh' }, `--hook ${join(dir, 'missing.sh')}: no such file: give the path of your hook script`],
    [{ controlSocket: `/run/${'x'.repeat(120)}` }, `--control-socket /run/${'x'.repeat(120)}: a unix socket path is at most 107 bytes: choose a shorter one, e.g. /run/ra6dhcp/ra6dhcp.sock`],
    [{ resolvConf: '/etc/resolv.conf' }, '--resolv-conf: refusing to write DNS settings to /etc/resolv.conf (/etc/resolv.conf): give --resolv-conf a fragment path of its own (e.g. /run/ra6dhcp/IF.resolv.conf) and merge it with resolvconf or a hook'],
  ]
  for (const [flags, message] of cases) throwsUsage(t, () => resolveSettings(['eth0'], flags, env), message, JSON.stringify(flags))
  const notExecutable = join(dir, 'plain.sh')
  writeFileSync(notExecutable, '#!/bin/sh\n')
  chmodSync(notExecutable, 0o644)
  throwsUsage(t, () => resolveSettings(['eth0'], { hook: notExecutable }, env), `--hook ${notExecutable}: not executable: run \`chmod +x ${notExecutable}\``)
  throwsUsage(t, () => resolveSettings(['eth0', 'eth1'], { resolvConf: '/tmp/dns.conf' }, env),
    '--resolv-conf /tmp/dns.conf would be shared by every interface: put {if} in it (e.g. /run/ra6dhcp/{if}.resolv.conf) or set resolv-conf per interface in the config')
})

t.test('interface errors', async t => {
  throwsUsage(t, () => resolveSettings(['eth9'], {}, env), "interface 'eth9' does not exist: list interfaces with `ip link` (in a namespace, run under `ip netns exec NS`)")
  throwsUsage(t, () => resolveSettings(['a/b'], {}, env), "'a/b' is not an interface name: give a name shown by `ip link` (1-15 characters, no '/' or spaces)")
  throwsUsage(t, () => resolveSettings(['eth0', 'eth0'], {}, env), "interface 'eth0' is named twice: name each interface once")
  throwsUsage(t, () => resolveSettings([], {}, env), 'no interface to run on: name one, e.g. `ra6dhcp run eth0` (list interfaces with `ip link`)')
  const empty = config('empty.json', {})
  throwsUsage(t, () => resolveSettings([], { config: empty }, env), `no interface to run on: name one (ra6dhcp run eth0) or add it to config ${empty} under "interfaces"`)
  t.equal(resolveSettings(['lo'], {}, { ...env, interfaceExists: name => name === 'lo' }).interfaces.size, 1)
})

t.test('config file errors: typos suggested, wrong scope, wrong types, bad JSON', async t => {
  const f = join(dir, 'c.json')
  throwsUsage(t, () => parseConfigText(f, '{"sol-max-dealy": 0}'), `config ${f}: unknown key 'sol-max-dealy' (did you mean 'sol-max-delay'?)`)
  throwsUsage(t, () => parseConfigText(f, '{"solMaxDelay": 0}'), `config ${f}: unknown key 'solMaxDelay' (did you mean 'sol-max-delay'?)`)
  throwsUsage(t, () => parseConfigText(f, '{"interfaces": {"eth0": {"rapid_commit": true}}}'), `config ${f}: unknown key 'interfaces.eth0.rapid_commit' (did you mean 'rapid-commit'?)`)
  throwsUsage(t, () => parseConfigText(f, '{"interfaces": {"eth0": {"state-dir": "/x"}}}'), `config ${f}: interfaces.eth0.state-dir applies to the whole daemon, not to one interface: move it to the top level`)
  throwsUsage(t, () => parseConfigText(f, '{"colour": "blue"}'), `config ${f}: unknown key 'colour' (known keys: profile, on-ra, release-on-stop, rapid-commit, reconfigure-accept, sol-max-delay, ia-na, ia-pd, stateless, hook, resolv-conf, pd-downstream, ra-source, state-dir, control-socket, log-format, log-level, duid-type, link-watch, link-debounce, interfaces)`)
  // The middle is V8's own description of the syntax error, which varies between Node versions.
  t.throws(() => parseConfigText(f, '{"profile": "rfc3315",}'), { name: 'UsageError', message: /^config \S+ is not valid JSON \(.+\): fix the syntax, e\.g\. \{ "interfaces": \{ "eth0": \{\} \} \}$/ })
  throwsUsage(t, () => parseConfigText(f, '[1]'), `config ${f} must hold a JSON object, e.g. { "interfaces": { "eth0": {} } }`)
  throwsUsage(t, () => parseConfigText(f, '{"interfaces": ["eth0"]}'), `config ${f}: interfaces must be an object of interface name to settings, e.g. "interfaces": { "eth0": { "ia-na": 1 } }`)
  throwsUsage(t, () => parseConfigText(f, '{"interfaces": {"eth0": true}}'), `config ${f}: interfaces.eth0 must be an object of settings (use {} for the defaults)`)
  const typed = config('typed.json', { 'rapid-commit': 'yes', 'interfaces': { eth0: {} } })
  throwsUsage(t, () => resolveSettings([], { config: typed }, env), `config ${typed}: rapid-commit must be true or false (got 'yes')`)
  const perIf = config('perif.json', { interfaces: { eth0: { profile: 'rfc9999' } } })
  throwsUsage(t, () => resolveSettings([], { config: perIf }, env), `config ${perIf}: interfaces.eth0.profile must be rfc8415 or rfc3315 (got 'rfc9999')`)
  const numberPd = config('pd.json', { interfaces: { eth0: { 'ia-pd': 2.5 } } })
  throwsUsage(t, () => resolveSettings([], { config: numberPd }, env), `config ${numberPd}: interfaces.eth0.ia-pd must be N or N/LEN: N prefixes (0 to 16) with an optional prefix-length hint LEN from 1 to 128 (got 2.5), e.g. "1/56"`)
  throwsUsage(t, () => resolveSettings([], { config: join(dir, 'nope.json') }, env), `config ${join(dir, 'nope.json')} does not exist: check the path given to --config`)
})

t.test('reload diff: what SIGHUP applies and what needs a restart', async t => {
  const before = resolveSettings(['eth0'], { logLevel: 'info' }, env)
  const after = resolveSettings(['eth0'], { logLevel: 'debug', iaPd: '1', stateDir: '/tmp/other', profile: 'rfc3315' }, env)
  t.same(diffSettings(before, after), {
    applied: ['log-level', 'eth0.profile', 'eth0.ia-pd', 'eth0.resolv-conf'],
    needsRestart: ['state-dir'],
  })
  t.same(diffSettings(before, resolveSettings(['eth0'], {}, env)), { applied: [], needsRestart: [] })
})
