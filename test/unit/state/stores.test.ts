import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LeaseStore, remainingSeconds, INFINITE_LIFETIME, type StoredLease } from '../../../src/state/lease-store.js'
import { DuidStore, duidEn, duidLl, duidLlt, duidUuid, parseDuidHex } from '../../../src/state/duid.js'
import { IaidStore } from '../../../src/state/iaid.js'
import { UsageError } from '../../../src/cli/usage-error.js'

function stateDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ra6dhcp-state-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const lease: StoredLease = {
  interface: 'eth0',
  obtainedAt: 1_700_000_000_000,
  serverDuid: '000100012a2b2c2d525400000001',
  serverAddress: 'fe80::1',
  iaNa: [{ iaid: 1, t1: 1800, t2: 2880, addresses: [{ address: '2001:db8::10', preferredLifetime: 3600, validLifetime: 7200 }] }],
  iaPd: [{ iaid: 2, t1: 0, t2: 0, prefixes: [{ prefix: '2001:db8:100::', length: 56, preferredLifetime: 3600, validLifetime: INFINITE_LIFETIME }] }],
  dnsServers: ['2001:db8::53'],
  domainSearch: ['example.com'],
  ntpServers: [],
  reconfigureKey: '00112233445566778899aabbccddeeff',
}

t.test('lease round-trips per interface, mode 0600, versioned', async t => {
  const dir = stateDir(t)
  const store = new LeaseStore(join(dir, 'state'))
  t.same(await store.load('eth0'), { status: 'missing' })
  await store.save(lease)
  t.same(await store.load('eth0'), { status: 'loaded', value: lease })
  t.same(await store.load('eth1'), { status: 'missing' }, 'per interface')
  const path = store.pathFor('eth0')
  t.equal(statSync(path).mode & 0o777, 0o600)
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { format: string; version: number }
  t.equal(doc.format, 'ra6dhcp-lease')
  t.equal(doc.version, 1)
  await store.remove('eth0')
  await store.remove('eth0')
  t.same(await store.load('eth0'), { status: 'missing' })
})

t.test('corrupt, foreign, future-version or ill-typed lease files are moved aside with a reason', async t => {
  const dir = stateDir(t)
  const store = new LeaseStore(dir)
  const path = store.pathFor('eth0')
  const cases: [string, RegExp][] = [
    ['{"format":"ra6dhcp-lease","version":1,"data":{"interf', /JSON/],
    ['{"hello":"world"}', /not a ra6dhcp-lease file/],
    ['{"format":"ra6dhcp-lease","version":2,"data":{}}', /unsupported version 2/],
    [JSON.stringify({ format: 'ra6dhcp-lease', version: 1, data: { ...lease, iaNa: [{ ...lease.iaNa[0], addresses: [{ address: 'nope', preferredLifetime: 1, validLifetime: 1 }] }] } }), /data\.iaNa\[0\]\.addresses\[0\]\.address: expected an IPv6 address/],
    [JSON.stringify({ format: 'ra6dhcp-lease', version: 1, data: { ...lease, iaPd: [{ ...lease.iaPd[0], t1: -1 }] } }), /data\.iaPd\[0\]\.t1/],
    [JSON.stringify({ format: 'ra6dhcp-lease', version: 1, data: { ...lease, interface: '../etc' } }), /not a usable interface name/],
  ]
  for (const [content, reason] of cases) {
    writeFileSync(path, content)
    const result = await store.load('eth0')
    t.equal(result.status, 'moved-aside')
    if (result.status !== 'moved-aside') continue
    t.match(result.reason, reason)
    t.equal(readFileSync(result.movedTo, 'utf8'), content, 'the bad file is kept intact for inspection')
    t.same(await store.load('eth0'), { status: 'missing' })
    rmSync(result.movedTo)
  }
  await t.rejects(store.save({ ...lease, dnsServers: ['10.0.0.1'] }), /dnsServers/, 'refuses to write what it would not read')
  t.throws(() => store.pathFor('../x'), UsageError)
})

t.test('the RKAP replay detection counter is stored as a 64-bit decimal string', async t => {
  const dir = stateDir(t)
  const store = new LeaseStore(dir)
  const max = { ...lease, reconfigureReplayDetection: '18446744073709551615' }
  await store.save(max)
  t.same(await store.load('eth0'), { status: 'loaded', value: max }, '2^64-1 round-trips digit for digit')
  const doc = JSON.parse(readFileSync(store.pathFor('eth0'), 'utf8')) as { data: Record<string, unknown> }
  t.equal(doc.data.reconfigureReplayDetection, '18446744073709551615', 'written as a string, never a JSON number')
  const expected = 'a 64-bit unsigned integer as a decimal string (0..18446744073709551615)'
  const bad: [unknown, string][] = [
    [5, '5'], ['18446744073709551616', '"18446744073709551616"'], ['-1', '"-1"'], ['0x10', '"0x10"'], ['007', '"007"'], ['', '""'], [null, 'null'],
  ]
  for (const [value, shown] of bad) {
    writeFileSync(store.pathFor('eth0'), JSON.stringify({ format: 'ra6dhcp-lease', version: 1, data: { ...lease, reconfigureReplayDetection: value } }))
    const result = await store.load('eth0')
    t.equal(result.status === 'moved-aside' && result.reason, `data.reconfigureReplayDetection: expected ${expected}, got ${shown}`, `${shown} is refused`)
    if (result.status === 'moved-aside') rmSync(result.movedTo)
  }
  await t.rejects(store.save({ ...lease, reconfigureReplayDetection: '1e3' }), { message: `data.reconfigureReplayDetection: expected ${expected}, got "1e3"` }, 'refuses to write what it would not read')
})

t.test('remaining lifetimes count from obtainedAt; infinity stays infinite', async t => {
  t.equal(remainingSeconds(7200, 1000, 1000 + 1000 * 1000), 6200)
  t.equal(remainingSeconds(100, 0, 500_000), 0)
  t.equal(remainingSeconds(INFINITE_LIFETIME, 0, 1e12), INFINITE_LIFETIME)
})

t.test('DUID builders follow RFC 8415 section 11 and RFC 6355', async t => {
  const mac = Buffer.from('525400abcdef', 'hex')
  // 2000-01-01T00:00:10Z -> time field 10
  t.equal(Buffer.from(duidLlt(mac, Date.UTC(2000, 0, 1, 0, 0, 10))).toString('hex'), '000100010000000a525400abcdef')
  t.equal(Buffer.from(duidLl(mac)).toString('hex'), '00030001525400abcdef')
  t.equal(Buffer.from(duidEn(9, Buffer.from('0c', 'hex'))).toString('hex'), '0002000000090c')
  t.equal(Buffer.from(duidUuid('12345678-9abc-def0-1234-56789abcdef0')).toString('hex'), '0004123456789abcdef0123456789abcdef0')
  t.equal(duidUuid().length, 18)
  t.equal(Buffer.from(parseDuidHex('00:03:00:01:52:54:00:ab:cd:ef')).toString('hex'), '00030001525400abcdef')
  t.throws(() => parseDuidHex('zz'), UsageError)
  t.throws(() => parseDuidHex('0001'), /too short/)
  t.throws(() => parseDuidHex('00'.repeat(131)), /at most 130/)
  t.throws(() => duidEn(-1, Buffer.from([1])), UsageError)
})

t.test('the DUID is created once and then stable; a corrupt file is moved aside and reported', async t => {
  const dir = stateDir(t)
  const store = new DuidStore(dir)
  let calls = 0
  const make = (): Uint8Array => { calls++; return duidLlt(Buffer.from('525400000001', 'hex'), Date.now()) }
  const first = await store.loadOrCreate(make)
  t.ok(first.created)
  const again = await new DuidStore(dir).loadOrCreate(make)
  t.notOk(again.created)
  t.same(Buffer.from(again.duid), Buffer.from(first.duid), 'same bytes after a "restart"')
  t.equal(calls, 1)
  t.equal(statSync(store.path).mode & 0o777, 0o600)
  writeFileSync(store.path, 'garbage')
  const replaced = await store.loadOrCreate(make)
  t.ok(replaced.created)
  t.match(replaced.replaced?.reason ?? '', /JSON/)
  t.equal(readFileSync(replaced.replaced?.movedTo ?? '', 'utf8'), 'garbage')
})

t.test('IAIDs: derived from the MAC, unique per type across interfaces, persisted', async t => {
  const dir = stateDir(t)
  const store = new IaidStore(dir)
  const macA = Buffer.from('525400000001', 'hex')
  const a0 = await store.iaidFor('eth0', 'na', 0, { mac: macA, ifindex: 2 })
  t.equal(a0, 0x00000001, 'last 4 bytes of the MAC')
  t.equal(await store.iaidFor('eth0', 'pd', 0, { mac: macA, ifindex: 2 }), 1, 'IA_PD has its own IAID space')
  // Same low MAC bytes on another interface (e.g. a VLAN): must not collide.
  const [b0, a1] = await Promise.all([
    store.iaidFor('eth0.10', 'na', 0, { mac: macA, ifindex: 5 }),
    store.iaidFor('eth0', 'na', 1, { mac: macA, ifindex: 2 }),
  ])
  t.equal(new Set([a0, b0, a1]).size, 3, `unique: ${a0} ${b0} ${a1}`)
  const noMac = await store.iaidFor('tun0', 'na', 0, { ifindex: 9 })
  t.equal(noMac, 9, 'ifindex without a MAC')
  // A new store (restart) with a changed MAC and ifindex keeps the persisted values.
  const reopened = new IaidStore(dir)
  t.equal(await reopened.iaidFor('eth0', 'na', 0, { mac: Buffer.from('aabbccddeeff', 'hex'), ifindex: 77 }), a0)
  t.equal(await reopened.iaidFor('eth0.10', 'na', 0, { ifindex: 1 }), b0)
  t.same(readdirSync(dir), ['iaids.json'])
  await t.rejects(store.iaidFor('bad/name', 'na', 0, { ifindex: 1 }), UsageError)
})
