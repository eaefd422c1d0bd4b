// The link-state decoder: exact values from hand-built RTM_NEWLINK/RTM_DELLINK bytes, the "usable
// link" rule, malformed input, and the constants against the kernel's uapi headers.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MalformedMessageError, splitMessages } from '../../../src/ra/netlink.js'
import {
  LINK, decodeLinkState, encodeGetLinkStateDump, linkFlagNames, linkIsUp, operstateName,
} from '../../../src/ra/rtnetlink-protocol.js'
import { need } from '../../lib/requirements.js'
import { nlmsg } from '../ra/fixtures/helpers.js'
import {
  AF_BRIDGE, FLAGS_ADMIN_DOWN, FLAGS_NO_CARRIER, FLAGS_UP, IFF_DORMANT, IFF_LOWER_UP, IFF_UP, OPER_LOWERLAYERDOWN, OPER_UP,
  RTM_DELLINK, linkMessage,
} from './fixtures/links.js'

const one = (datagram: Buffer) => {
  const { messages, malformed } = splitMessages(datagram)
  if (malformed || messages.length !== 1) throw new Error('fixture is not one message')
  return messages[0]!
}

t.test('RTM_NEWLINK of a link with carrier: every field, exactly', async t => {
  const info = decodeLinkState(one(linkMessage({ ifname: 'eth0', ifindex: 7, flags: FLAGS_UP, operstate: OPER_UP, carrier: 1, carrierDownCount: 3 })))
  t.same(info, { ifindex: 7, family: 0, deleted: false, flags: 0x11043, ifname: 'eth0', operstate: 6, carrier: true, carrierDownCount: 3 })
  t.equal(linkIsUp(info), true)
  t.same(linkFlagNames(info.flags), ['UP', 'LOWER_UP', 'RUNNING'])
  t.equal(operstateName(info.operstate), 'UP')
})

t.test('carrier lost (peer down): IFF_UP without LOWER_UP/RUNNING, operstate LOWERLAYERDOWN: down', async t => {
  const info = decodeLinkState(one(linkMessage({ ifname: 'eth0', ifindex: 7, flags: FLAGS_NO_CARRIER, operstate: OPER_LOWERLAYERDOWN, carrier: 0 })))
  t.same(info, { ifindex: 7, family: 0, deleted: false, flags: 0x1003, ifname: 'eth0', operstate: 3, carrier: false })
  t.equal(linkIsUp(info), false)
  t.same(linkFlagNames(info.flags), ['UP'])
  t.equal(operstateName(info.operstate), 'LOWERLAYERDOWN')
})

t.test('the usable-link rule: IFF_UP and IFF_RUNNING, not deleted', async t => {
  const rows: Array<[string, number, boolean, boolean]> = [
    ['up with carrier', FLAGS_UP, false, true],
    ['up, no carrier', FLAGS_NO_CARRIER, false, false],
    ['administratively down', FLAGS_ADMIN_DOWN, false, false],
    // LOWER_UP without RUNNING: carrier present but operstate not yet UP (linkwatch pending) or dormant (802.1X)
    ['carrier but not operational', IFF_UP | IFF_LOWER_UP | IFF_DORMANT, false, false],
    // UNKNOWN operstate (no carrier notion) still sets RUNNING
    ['RUNNING without LOWER_UP (operstate UNKNOWN)', IFF_UP | LINK.IFF_RUNNING, false, true],
    ['RUNNING but not UP (impossible, still down)', LINK.IFF_RUNNING | IFF_LOWER_UP, false, false],
    ['deleted', FLAGS_UP, true, false],
  ]
  for (const [what, flags, deleted, expected] of rows) t.equal(linkIsUp({ flags, deleted }), expected, what)
})

t.test('RTM_DELLINK and bridge-port messages keep their type and family', async t => {
  const gone = decodeLinkState(one(linkMessage({ type: RTM_DELLINK, ifname: 'eth0', ifindex: 7, flags: FLAGS_ADMIN_DOWN })))
  t.same(gone, { ifindex: 7, family: 0, deleted: true, flags: 0x1002, ifname: 'eth0' })
  const port = decodeLinkState(one(linkMessage({ type: RTM_DELLINK, family: AF_BRIDGE, ifname: 'eth0', ifindex: 7 })))
  t.equal(port.family, 7)
  t.equal(port.deleted, true)
  t.equal(operstateName(undefined), 'none')
  t.equal(operstateName(9), 'state 9')
})

t.test('malformed: short ifinfomsg, wrong type, attribute overrun, wrong attribute sizes', async t => {
  t.throws(() => decodeLinkState({ type: 16, flags: 0, seq: 0, pid: 0, payload: Buffer.alloc(12) }), new MalformedMessageError('ifinfomsg is 12 bytes'))
  t.throws(() => decodeLinkState({ type: 20, flags: 0, seq: 0, pid: 0, payload: Buffer.alloc(16) }), new MalformedMessageError('not RTM_NEWLINK or RTM_DELLINK: type 20'))
  const overrun = Buffer.concat([Buffer.alloc(16), Buffer.from([0x20, 0x00, 0x03, 0x00, 0x65, 0x74, 0x68, 0x30])])
  t.throws(() => decodeLinkState({ type: 16, flags: 0, seq: 0, pid: 0, payload: overrun }), new MalformedMessageError('attribute at offset 0 has length 32, 8 bytes left'))
  const badOperstate = Buffer.concat([Buffer.alloc(16), Buffer.from([0x06, 0x00, 0x10, 0x00, 0x06, 0x00, 0x00, 0x00])])
  t.throws(() => decodeLinkState({ type: 16, flags: 0, seq: 0, pid: 0, payload: badOperstate }), new MalformedMessageError('IFLA_OPERSTATE is 2 bytes, expected 1'))
  const badCount = Buffer.concat([Buffer.alloc(16), Buffer.from([0x06, 0x00, 0x30, 0x00, 0x01, 0x00, 0x00, 0x00])])
  t.throws(() => decodeLinkState({ type: 16, flags: 0, seq: 0, pid: 0, payload: badCount }), new MalformedMessageError('IFLA_CARRIER_DOWN_COUNT is 2 bytes, expected 4'))
})

t.test('the RTM_GETLINK dump request: AF_UNSPEC, NLM_F_REQUEST|NLM_F_DUMP, exact bytes', async t => {
  const expected = nlmsg(18, 0x301, 0x01020304, Buffer.alloc(16))
  t.equal(encodeGetLinkStateDump(0x01020304).toString('hex'), expected.toString('hex'))
  t.equal(expected.length, 32)
})

t.test('LINK mirrors linux/rtnetlink.h, linux/if_link.h and linux/if.h', async t => {
  if (!need(t, { commands: ['gcc'], files: ['/usr/include/linux/if.h', '/usr/include/linux/if_link.h'] })) return
  const names: Record<keyof typeof LINK, string> = {
    AF_UNSPEC: 'AF_UNSPEC', RTM_DELLINK: 'RTM_DELLINK', RTNLGRP_LINK: 'RTNLGRP_LINK', IFLA_OPERSTATE: 'IFLA_OPERSTATE',
    IFLA_CARRIER: 'IFLA_CARRIER', IFLA_CARRIER_DOWN_COUNT: 'IFLA_CARRIER_DOWN_COUNT',
    IFF_UP: 'IFF_UP', IFF_RUNNING: 'IFF_RUNNING', IFF_LOWER_UP: 'IFF_LOWER_UP', IFF_DORMANT: 'IFF_DORMANT',
  }
  const operstates = ['IF_OPER_UNKNOWN', 'IF_OPER_NOTPRESENT', 'IF_OPER_DOWN', 'IF_OPER_LOWERLAYERDOWN', 'IF_OPER_TESTING', 'IF_OPER_DORMANT', 'IF_OPER_UP']
  const exprs = [...Object.values(names), ...operstates]
  const dir = mkdtempSync(join(tmpdir(), 'ra6-link-abi-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'abi.c'), [
    '#include <stdio.h>', '#include <sys/socket.h>', '#include <linux/if.h>', '#include <linux/netlink.h>',
    '#include <linux/rtnetlink.h>', '#include <linux/if_link.h>',
    `int main(void) {\n${exprs.map(e => `  printf("%s %lld\\n", "${e}", (long long)(${e}));`).join('\n')}\n  return 0;\n}\n`,
  ].join('\n'))
  execFileSync('gcc', ['-Wall', '-Werror', '-o', join(dir, 'abi'), join(dir, 'abi.c')], { stdio: 'pipe' })
  const values = new Map(execFileSync(join(dir, 'abi'), { encoding: 'utf8' }).trim().split('\n').map(line => line.split(' ') as [string, string]))
  for (const [key, cName] of Object.entries(names)) t.equal(String(LINK[key as keyof typeof LINK]), values.get(cName), `LINK.${key} = ${cName}`)
  operstates.forEach((cName, value) => t.equal(values.get(cName), String(value), `${cName} is ${value} (${operstateName(value)})`))
})
