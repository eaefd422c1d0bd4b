// The TypeScript constants must equal the C headers they mirror: compile a program against the
// headers, print every constant, compare. A constant added to ra6mon.h without a TS twin fails too.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NETLINK, RA6MON, RTNETLINK } from '../../../src/ra/abi.js'
import { need } from '../../lib/requirements.js'

const repo = resolve(fileURLToPath(import.meta.url), '../../../..')
const header = join(repo, 'kernel/include/uapi/linux/ra6mon.h')

// Names in the header that the client has no use for; listed so a new one is a deliberate choice.
const notMirrored = new Set<string>()
// The stats nest grows with the module; unknown counters decode as `stat<N>`, so a new one is no drift.
const grows = (name: string) => name.startsWith('STAT_')

function compileAndRun(source: string, includeDir: string): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'ra6-abi-'))
  try {
    writeFileSync(join(dir, 'abi.c'), source)
    execFileSync('gcc', ['-Wall', '-Werror', '-I', includeDir, '-o', join(dir, 'abi'), join(dir, 'abi.c')], { stdio: 'pipe' })
    const out = execFileSync(join(dir, 'abi'), { encoding: 'utf8' })
    return new Map(out.trim().split('\n').map(line => {
      const space = line.indexOf(' ')
      return [line.slice(0, space), line.slice(space + 1)] as [string, string]
    }))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

t.test('RA6MON mirrors kernel/include/uapi/linux/ra6mon.h exactly', async t => {
  if (!need(t, { commands: ['gcc'] })) return
  const text = readFileSync(header, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
  const names = [...new Set([...text.matchAll(/\b(RA6MON_[A-Z0-9_]*[A-Z0-9])\b/g)].map(m => m[1]!))]
  const strings = new Set([...text.matchAll(/#define\s+(RA6MON_\w+)\s+"/g)].map(m => m[1]!))
  const prints = names.map(n => strings.has(n)
    ? `  printf("%s %s\\n", "${n}", ${n});`
    : `  printf("%s %lld\\n", "${n}", (long long)(${n}));`)
  const values = compileAndRun(
    `#include <stdio.h>\n#include <linux/ra6mon.h>\nint main(void) {\n${prints.join('\n')}\n  return 0;\n}\n`,
    join(repo, 'kernel/include/uapi'))
  t.ok(values.size >= 50, `the header defines ${values.size} constants`)
  for (const [cName, value] of values) {
    const key = cName.replace(/^RA6MON_/, '')
    const mirrored = (RA6MON as Record<string, string | number>)[key]
    if (mirrored === undefined) {
      if (notMirrored.has(cName) || grows(key)) t.comment(`${cName} = ${value} is not mirrored (decoded generically)`)
      else t.fail(`${cName} = ${value} is in ra6mon.h but not in src/ra/abi.ts RA6MON`)
      continue
    }
    t.equal(String(mirrored), value, `${cName}`)
  }
  for (const key of Object.keys(RA6MON)) {
    t.ok(values.has(`RA6MON_${key}`), `RA6MON.${key} exists in the header`)
  }
})

t.test('NETLINK and RTNETLINK mirror the kernel uapi headers', async t => {
  if (!need(t, { commands: ['gcc'], files: ['/usr/include/linux/rtnetlink.h'] })) return
  const c: Array<[string, string]> = [
    ...Object.keys(NETLINK).filter(k => !['NLMSG_HDRLEN', 'NLA_HDRLEN'].includes(k)).map(k => [`NETLINK.${k}`, k] as [string, string]),
    ['NETLINK.NLMSG_HDRLEN', 'NLMSG_HDRLEN'],
    ['NETLINK.NLA_HDRLEN', 'NLA_HDRLEN'],
    ...Object.keys(RTNETLINK).filter(k => !k.startsWith('SIZEOF_') && k !== 'ND_ROUTER_ADVERT').map(k => [`RTNETLINK.${k}`, k] as [string, string]),
    ['RTNETLINK.SIZEOF_IFINFOMSG', 'sizeof(struct ifinfomsg)'],
    ['RTNETLINK.SIZEOF_NDUSEROPTMSG', 'sizeof(struct nduseroptmsg)'],
    ['RTNETLINK.ND_ROUTER_ADVERT', 'ND_ROUTER_ADVERT'],
  ]
  const prints = c.map(([ts, expr]) => `  printf("%s %lld\\n", "${ts}", (long long)(${expr}));`)
  const values = compileAndRun([
    '#include <stdio.h>', '#include <sys/socket.h>', '#include <netinet/in.h>', '#include <netinet/icmp6.h>',
    '#include <linux/netlink.h>', '#include <linux/rtnetlink.h>', '#include <linux/if_link.h>',
    `int main(void) {\n${prints.join('\n')}\n  return 0;\n}\n`,
  ].join('\n'), '/usr/include')
  for (const [ts] of c) {
    const [group, key] = ts.split('.') as [string, string]
    const table = (group === 'NETLINK' ? NETLINK : RTNETLINK) as Record<string, number>
    t.equal(String(table[key]), values.get(ts), ts)
  }
})
