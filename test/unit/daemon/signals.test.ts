// A spawned daemon process (real Daemon, control socket and signal handlers; fake client) in a
// temp dir, on loopback only: SIGTERM/SIGINT stop it cleanly, a second one exits at once, SIGHUP
// reloads the config and survives a broken one.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sendControlRequest } from '../../../src/daemon/protocol.js'

const fixture = fileURLToPath(new URL('./daemon-process.ts', import.meta.url))
const repo = fileURLToPath(new URL('../../../', import.meta.url))

interface Spawned {
  child: ChildProcess
  lines: Record<string, unknown>[]
  exited: Promise<number | null>
  waitFor(predicate: (line: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>
}

function startDaemon(t: { teardown(fn: () => unknown): void }, config: string, env: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath, ['--import', '@tapjs/typescript/import', fixture, config], {
    cwd: repo, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: Record<string, unknown>[] = []
  const waiters: (() => void)[] = []
  let buffer = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk
    let newline: number
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline)
      buffer = buffer.slice(newline + 1)
      try { lines.push(JSON.parse(line) as Record<string, unknown>) } catch { lines.push({ msg: line }) }
    }
    waiters.forEach(w => w())
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => { waiters.forEach(w => w()); resolve(code) }))
  // Ends only the process this test started, by its PID.
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  return {
    child, lines, exited,
    waitFor(predicate, what, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; log:\n${lines.map(l => JSON.stringify(l)).join('\n')}\nstderr:\n${stderr}`)), timeoutMs)
        const check = () => {
          const found = lines.find(predicate)
          if (found) { clearTimeout(timer); resolve(found) }
          else if (child.exitCode !== null) { clearTimeout(timer); reject(new Error(`daemon exited (${child.exitCode}) before ${what}; stderr:\n${stderr}`)) }
        }
        waiters.push(check)
        check()
      })
    },
  }
}

function labDir(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'ra6dhcp-sig-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const socket = join(dir, 'ctl.sock')
  const config = join(dir, 'ra6dhcp.json')
  const write = (extra: Record<string, unknown>) => writeFileSync(config, JSON.stringify({
    'state-dir': dir, 'control-socket': socket, 'interfaces': { lo: { 'release-on-stop': true } }, ...extra,
  }))
  write({})
  return { dir, socket, config, write }
}

t.test('SIGHUP reloads (a broken config is reported and the daemon keeps going); SIGTERM stops cleanly with Release first', async t => {
  const { socket, config, write } = labDir(t)
  const d = startDaemon(t, config)
  await d.waitFor(l => l.msg === 'ra6dhcp running', 'the daemon to start')
  const status = await sendControlRequest(socket, { argv: ['status'] })
  t.equal(status.ok && status.verb === 'status' && status.status.pid, d.child.pid, 'the control socket answers with the daemon\'s pid')

  write({ 'log-level': 'debug' })
  d.child.kill('SIGHUP')
  const reloaded = await d.waitFor(l => l.msg === 'config reloaded', 'the reload')
  t.same(reloaded.applied, ['log-level'])

  writeFileSync(config, '{ "interfaces": ')
  d.child.kill('SIGHUP')
  const failed = await d.waitFor(l => typeof l.msg === 'string' && l.msg.startsWith('reload failed'), 'the failed reload')
  t.match(failed.msg, /^reload failed, the running settings stay as they were: config \S+ is not valid JSON/)
  t.equal((await sendControlRequest(socket, { argv: ['status'] })).ok, true, 'still running after a bad reload')

  d.child.kill('SIGTERM')
  t.equal(await d.exited, 0, 'exit code 0')
  t.ok(d.lines.some(l => l.msg === 'stop signal received' && l.signal === 'SIGTERM'))
  t.ok(d.lines.some(l => l.call === 'lo: stop (release first)'), 'the client was stopped, Release first (release-on-stop)')
  t.ok(d.lines.some(l => l.msg === 'stopped'))
  t.notOk(existsSync(socket), 'the control socket is removed')
})

t.test('SIGINT stops too; a second signal while stopping exits at once', async t => {
  const { socket, config } = labDir(t)
  const d = startDaemon(t, config, { STOP_HANG: '1' })
  await d.waitFor(l => l.msg === 'ra6dhcp running', 'the daemon to start')
  d.child.kill('SIGINT')
  await d.waitFor(l => l.call === 'lo: stop (release first)', 'the stop to begin')
  t.equal(d.child.exitCode, null, 'still stopping (the client\'s stop does not finish)')
  d.child.kill('SIGTERM')
  t.equal(await d.exited, 1, 'the second signal exits with 1')
  t.ok(d.lines.some(l => l.msg === 'second stop signal while stopping: exiting now without waiting for the clients'))
  t.ok(existsSync(socket), 'the socket file is left behind by the forced exit')
  // ...and the next daemon takes the stale socket over.
  const next = startDaemon(t, config)
  await next.waitFor(l => l.msg === 'ra6dhcp running', 'a new daemon on the stale socket')
  next.child.kill('SIGTERM')
  t.equal(await next.exited, 0)
})
