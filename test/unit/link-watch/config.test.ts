// --link-watch on|off and --link-debounce MS: defaults, flags, the config file, exact errors,
// and SIGHUP treating them as restart-only keys.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { diffSettings, resolveSettings, type ConfigEnvironment } from '../../../src/daemon/config.js'
import { throwsUsage } from '../../lib/usage.js'

const dir = mkdtempSync(join(tmpdir(), 'ra6dhcp-linkcfg-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const env: ConfigEnvironment = { interfaceExists: name => name === 'eth0', cwd: dir }

function config(name: string, value: unknown): string {
  const file = join(dir, name)
  writeFileSync(file, JSON.stringify(value))
  return file
}

t.test('defaults: the link watch is on, no debounce', async t => {
  const s = resolveSettings(['eth0'], {}, env)
  t.equal(s.linkWatch, true)
  t.equal(s.linkDebounceMs, 0)
})

t.test('flags and config keys', async t => {
  t.equal(resolveSettings(['eth0'], { linkWatch: 'off' }, env).linkWatch, false)
  t.equal(resolveSettings(['eth0'], { linkWatch: 'on' }, env).linkWatch, true)
  t.equal(resolveSettings(['eth0'], { linkDebounce: '300' }, env).linkDebounceMs, 300)
  const file = config('a.json', { 'link-watch': 'off', 'link-debounce': 250 })
  const s = resolveSettings(['eth0'], { config: file }, env)
  t.equal(s.linkWatch, false)
  t.equal(s.linkDebounceMs, 250)
  t.equal(resolveSettings(['eth0'], { config: config('b.json', { 'link-watch': false }) }, env).linkWatch, false, 'the file may say false')
  t.equal(resolveSettings(['eth0'], { config: file, linkWatch: 'on' }, env).linkWatch, true, 'the flag wins over the file')
})

t.test('bad values name the fix', async t => {
  throwsUsage(t, () => resolveSettings(['eth0'], { linkWatch: 'yes' }, env),
    "--link-watch must be on or off (got 'yes'), e.g. --link-watch off to leave link changes to `ra6dhcp ctl ifdown`/`ifup`")
  throwsUsage(t, () => resolveSettings(['eth0'], { linkWatch: 'true' }, env),
    "--link-watch must be on or off (got 'true'), e.g. --link-watch off to leave link changes to `ra6dhcp ctl ifdown`/`ifup`")
  const file = config('c.json', { 'link-watch': 0 })
  throwsUsage(t, () => resolveSettings(['eth0'], { config: file }, env),
    `config ${file}: link-watch must be on or off (got 0), e.g. "off" to leave link changes to \`ra6dhcp ctl ifdown\`/\`ifup\``)
  throwsUsage(t, () => resolveSettings(['eth0'], { linkDebounce: '0.5' }, env),
    "--link-debounce must be a whole number of milliseconds from 0 to 10000 (got '0.5'), e.g. --link-debounce 300; 0 takes each link change at once")
  throwsUsage(t, () => resolveSettings(['eth0'], { linkDebounce: '10001' }, env),
    "--link-debounce must be a whole number of milliseconds from 0 to 10000 (got '10001'), e.g. --link-debounce 300; 0 takes each link change at once")
  const perInterface = config('d.json', { interfaces: { eth0: { 'link-watch': 'off' } } })
  throwsUsage(t, () => resolveSettings([], { config: perInterface }, env),
    `config ${perInterface}: interfaces.eth0.link-watch applies to the whole daemon, not to one interface: move it to the top level`)
})

t.test('a SIGHUP cannot change them: reported as needing a restart', async t => {
  const before = resolveSettings(['eth0'], {}, env)
  const after = resolveSettings(['eth0'], { linkWatch: 'off', linkDebounce: '100' }, env)
  t.same(diffSettings(before, after), { applied: [], needsRestart: ['link-watch', 'link-debounce'] })
})
