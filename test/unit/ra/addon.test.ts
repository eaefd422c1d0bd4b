// The native addon itself, on the build machine's kernel (NETLINK_ROUTE needs no module and no
// privilege): datagrams in and out, the clock, errors, close/ref/unref, worker threads.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { addonPath, native, monotonicNs } from '../../../src/ra/native.js'
import { RaMonitor } from '../../../src/ra/monitor.js'
import { MODULE_NOT_LOADED } from '../../../src/ra/errors.js'
import { splitMessages } from '../../../src/ra/netlink.js'
import { encodeGetLinkDump } from '../../../src/ra/rtnetlink-protocol.js'
import { need } from '../../lib/requirements.js'

const openFds = () => readdirSync('/proc/self/fd').length

function runNode(code: string, timeoutMs: number): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise(resolve => {
    const child = execFile(process.execPath, ['-e', code], { timeout: timeoutMs }, (err, _stdout, stderr) => {
      const e = err as (Error & { code?: number; signal?: string }) | null
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stderr: String(stderr) })
    })
    void child
  })
}

t.test('the addon', async t => {
  if (!need(t, { files: [addonPath] })) return

  t.test('CLOCK_MONOTONIC in ns, the clock process.hrtime uses', async t => {
    const before = process.hrtime.bigint()
    const now = monotonicNs()
    const after = process.hrtime.bigint()
    t.ok(before <= now && now <= after, `${before} <= ${now} <= ${after}`)
  })

  t.test('a NETLINK_ROUTE dump comes back as whole datagrams from the kernel', async t => {
    const fdsBefore = openFds()
    const messages: Array<{ type: number; seq: number }> = []
    let wakeups = 0
    const done = new Promise<void>((resolve, reject) => {
      const socket = new (native().NetlinkSocket)({ protocol: 0 }, wakeup => {
        wakeups++
        if (wakeup.error) reject(wakeup.error)
        for (const d of wakeup.datagrams) {
          for (const m of splitMessages(d).messages) {
            messages.push({ type: m.type, seq: m.seq })
            if (m.type === 3) { socket.close(); resolve() }
          }
        }
      })
      t.ok(socket.portId > 0, `kernel-assigned port id ${socket.portId}`)
      t.equal(openFds(), fdsBefore + 1, 'one descriptor while open')
      t.equal(socket.send(encodeGetLinkDump(4711)), 32)
    })
    await done
    t.ok(wakeups >= 1)
    t.ok(messages.some(m => m.type === 16 && m.seq === 4711), 'RTM_NEWLINK replies with our seq')
    t.equal(openFds(), fdsBefore, 'close() released the descriptor at once')
  })

  t.test('close is idempotent; a closed socket refuses to send', async t => {
    const socket = new (native().NetlinkSocket)({ protocol: 0 }, () => undefined)
    socket.close()
    socket.close()
    t.ok(socket.closed)
    t.throws(() => socket.send(Buffer.alloc(16)), /closed/)
    socket.ref()
    socket.unref()
  })

  t.test('bad arguments are TypeErrors', async t => {
    const Ctor = native().NetlinkSocket as unknown as new (...args: unknown[]) => unknown
    t.throws(() => new Ctor({ protocol: 0 }), TypeError)
    t.throws(() => new Ctor({}, () => undefined), TypeError)
  })

  t.test('no module: the missing-module message with errno, code and syscall', async t => {
    if (existsSync('/sys/module/ra6mon')) {
      t.pass('ra6mon is loaded on this machine; the VM suite checks this case')
      return
    }
    const monitor = new RaMonitor({ source: 'ra6mon', protocol: 31 })
    await t.rejects(monitor.start(), { code: 'EPROTONOSUPPORT', errno: -93, syscall: 'socket' })
    await new RaMonitor({ source: 'ra6mon', protocol: 31 }).start().catch((err: Error) => {
      t.ok(err.message.startsWith(MODULE_NOT_LOADED), err.message)
    })
  })

  t.test('unref() lets the process exit; an open, referenced socket keeps it alive', async t => {
    const open = `const a = require(${JSON.stringify(addonPath)}); const s = new a.NetlinkSocket({ protocol: 0, groups: [12] }, () => {});`
    const unrefd = await runNode(`${open} s.unref()`, 10000)
    t.equal(unrefd.code, 0, `exits by itself (${unrefd.stderr})`)
    const held = await runNode(open, 1500)
    t.equal(held.signal, 'SIGTERM', 'still running when the test gives up on it')
    const closed = await runNode(`${open} setTimeout(() => s.close(), 50)`, 10000)
    t.equal(closed.code, 0, 'exits once closed')
  })

  t.test('worker threads: sockets left open are closed when the worker ends', async t => {
    const fdsBefore = openFds()
    const code = `
      const { parentPort } = require('node:worker_threads')
      const a = require(${JSON.stringify(addonPath)})
      const sockets = [0, 1, 2].map(() => new a.NetlinkSocket({ protocol: 0, groups: [12, 20] }, () => {}))
      parentPort.postMessage(sockets.map(s => s.portId))
      ${'' /* neither closed nor unref'd: the environment cleanup hook must close them */}`
    for (const how of ['exit', 'terminate'] as const) {
      const worker = new Worker(how === 'exit' ? `${code}; setTimeout(() => process.exit(0), 20)` : code, { eval: true })
      const exited = new Promise<number>(resolve => worker.once('exit', resolve))
      const ports = await new Promise<number[]>(resolve => worker.once('message', resolve))
      t.equal(ports.length, 3, `worker (${how}) opened three sockets`)
      t.equal(new Set(ports).size, 3, 'with distinct port ids')
      if (how === 'terminate') await worker.terminate()
      const exitCode = await exited
      t.ok(how === 'terminate' || exitCode === 0, `worker ended (${how}, code ${exitCode})`)
      t.equal(openFds(), fdsBefore, `descriptors released after ${how}`)
    }
  })
})
