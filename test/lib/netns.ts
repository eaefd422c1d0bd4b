// Network-namespace labs for integration tests. Safety rules (see shared/notes/LAB.md):
// - every namespace gets /etc/netns/NS/resolv.conf before anything runs in it, so a DHCP client's
//   DNS writes land there and never in the build machine's /etc/resolv.conf;
// - veth pairs are created inside a test namespace and moved to the other one: nothing (link,
//   address, route) is ever created in the root namespace;
// - cleanup ends only the processes this lab started, by PID, then deletes its namespaces.
import { spawn, execFile, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)
let labCounter = 0

export interface RunResult {
  stdout: string
  stderr: string
}

export interface Daemon {
  name: string
  process: ChildProcess
  pid: number
  logFile: string
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>
}

type Teardown = { teardown: (fn: () => unknown) => void }

export class Namespace {
  constructor(
    readonly lab: NetnsLab,
    /** Full name, as `ip netns` knows it. */
    readonly name: string,
  ) {}

  /** Runs a command inside the namespace and returns its output; rejects on a non-zero exit. */
  run(argv: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return this.lab.run(['ip', 'netns', 'exec', this.name, ...argv], options)
  }

  /** Starts a long-running process inside the namespace, tracked for cleanup by its PID. */
  spawn(name: string, argv: string[], options: SpawnOptions = {}): Daemon {
    return this.lab.spawnTracked(name, ['ip', 'netns', 'exec', this.name, ...argv], options)
  }

  sysctl(key: string, value: string | number): Promise<RunResult> {
    return this.run(['sysctl', '-q', '-w', `${key}=${value}`])
  }
}

export class NetnsLab {
  /** A directory of the lab's own for configs, leases, logs and sockets. */
  readonly dir: string
  readonly prefix: string
  private readonly namespaces: Namespace[] = []
  private readonly daemons: Daemon[] = []
  private cleaned = false

  constructor(t?: Teardown) {
    // Short: namespace and interface names are limited (IFNAMSIZ 16).
    this.prefix = `r6${process.pid % 100000}${(labCounter++).toString(36)}`
    this.dir = mkdtempSync(join(tmpdir(), `ra6dhcp-${this.prefix}-`))
    t?.teardown(() => this.cleanup())
  }

  async run(argv: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    const [cmd, ...args] = argv
    if (cmd === undefined) throw new Error('run: empty command')
    try {
      const child = execFileAsync(cmd, args, { timeout: options.timeoutMs ?? 30000, maxBuffer: 64 << 20 })
      if (options.input !== undefined) {
        child.child.stdin?.end(options.input)
      }
      const { stdout, stderr } = await child
      return { stdout: String(stdout), stderr: String(stderr) }
    } catch (err) {
      const e = err as { stderr?: string; message: string }
      throw new Error(`command failed: ${argv.join(' ')}\n${e.stderr ?? ''}${e.message}`)
    }
  }

  /** Creates a namespace with loopback up, DAD off and its own resolv.conf. */
  async addNamespace(shortName: string, options: { dad?: boolean } = {}): Promise<Namespace> {
    const name = `${this.prefix}${shortName}`
    // resolv.conf first: `ip netns exec` bind-mounts it over /etc/resolv.conf in the namespace.
    const etc = `/etc/netns/${name}`
    mkdirSync(etc, { recursive: true })
    writeFileSync(join(etc, 'resolv.conf'), `# ra6dhcp test namespace ${name}\n`)
    await this.run(['ip', 'netns', 'add', name])
    const ns = new Namespace(this, name)
    this.namespaces.push(ns)
    await ns.run(['ip', 'link', 'set', 'lo', 'up'])
    if (!options.dad) {
      await ns.sysctl('net.ipv6.conf.all.accept_dad', 0)
      await ns.sysctl('net.ipv6.conf.default.accept_dad', 0)
    }
    return ns
  }

  /**
   * Joins two namespaces with a veth pair (created inside `a`, one end moved to `b`), both ends up.
   * Returns once both ends have a usable (non-tentative) link-local address.
   */
  async link(a: Namespace, aIf: string, b: Namespace, bIf: string): Promise<void> {
    await a.run(['ip', 'link', 'add', aIf, 'type', 'veth', 'peer', 'name', bIf, 'netns', b.name])
    await a.run(['ip', 'link', 'set', aIf, 'up'])
    await b.run(['ip', 'link', 'set', bIf, 'up'])
    await this.waitForLinkLocal(a, aIf)
    await this.waitForLinkLocal(b, bIf)
  }

  async linkLocal(ns: Namespace, ifname: string): Promise<string | undefined> {
    const { stdout } = await ns.run(['ip', '-6', '-o', 'addr', 'show', 'dev', ifname, 'scope', 'link'])
    if (/tentative/.test(stdout)) return undefined
    return /inet6 (fe80::[0-9a-f:]+)\//.exec(stdout)?.[1]
  }

  async waitForLinkLocal(ns: Namespace, ifname: string, timeoutMs = 10000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const address = await this.linkLocal(ns, ifname)
      if (address) return address
      if (Date.now() > deadline) throw new Error(`${ns.name}/${ifname}: no link-local address after ${timeoutMs} ms`)
      await new Promise(r => setTimeout(r, 50))
    }
  }

  spawnTracked(name: string, argv: string[], options: SpawnOptions = {}): Daemon {
    const [cmd, ...args] = argv
    if (cmd === undefined) throw new Error('spawn: empty command')
    const logFile = join(this.dir, `${name}.log`)
    const fd = openSync(logFile, 'a')
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], ...options })
    closeSync(fd)
    if (child.pid === undefined) throw new Error(`could not start ${argv.join(' ')}`)
    const exited = new Promise<number | string>(resolve => {
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
    })
    const daemon: Daemon = { name, process: child, pid: child.pid, logFile, exited }
    this.daemons.push(daemon)
    return daemon
  }

  /** Ends one daemon this lab started: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(daemon: Daemon, graceMs = 3000): Promise<void> {
    if (daemon.process.exitCode !== null || daemon.process.signalCode !== null) return
    process.kill(daemon.pid, 'SIGTERM')
    const timer = setTimeout(() => {
      try { process.kill(daemon.pid, 'SIGKILL') } catch { /* already gone */ }
    }, graceMs)
    await daemon.exited
    clearTimeout(timer)
  }

  async cleanup(): Promise<void> {
    if (this.cleaned) return
    this.cleaned = true
    await Promise.all(this.daemons.map(d => this.stop(d, 2000).catch(() => undefined)))
    for (const ns of this.namespaces.reverse()) {
      await this.run(['ip', 'netns', 'del', ns.name]).catch(() => undefined)
      rmSync(`/etc/netns/${ns.name}`, { recursive: true, force: true })
    }
    if (process.env.RA6DHCP_KEEP_TEST_DIR) {
      process.stderr.write(`kept test directory ${this.dir}\n`)
    } else {
      rmSync(this.dir, { recursive: true, force: true })
    }
  }
}
