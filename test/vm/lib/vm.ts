// The QEMU test VM: boots Debian's packaged kernel (TCG; KVM does not work on the build machines)
// with a cached busybox initramfs, shares the build machine's / read-only over 9p, runs one guest
// script as root inside a chroot of it, and returns what the script wrote to the read-write share.
// Boot once per test file and run many checks inside that boot: each boot costs seconds.
// API documented in test/vm/README.md.
import { spawn, execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync,
  writeFileSync, copyFileSync, chmodSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Needs } from '../../lib/requirements.js'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
export const vmOutDir = join(repoRoot, 'test/vm/out')
const initScript = join(repoRoot, 'test/vm/guest/init.sh')
const busybox = '/bin/busybox'
const bootModules = ['virtio_pci', '9pnet_virtio', '9p']

/** One line of results.jsonl, written by `result` in test/vm/guest/lib.sh. */
export interface GuestResult {
  name: string
  ok: boolean
  detail: string
}

export interface VmOptions {
  /** Guest script, relative to the repository root (or absolute); run with bash as root. */
  script: string
  args?: string[]
  /** Extra environment for the script (RA6_VM_OUT, RA6_REPO, RA6_KRELEASE, RA6_MODULE are set). */
  env?: Record<string, string>
  /** Files placed in the share before boot: the guest reads them under $RA6_VM_OUT/in/. */
  files?: Record<string, string>
  /** The host kills QEMU (by PID) after this long; the run then reports timedOut. */
  timeoutMs: number
  memoryMb?: number
  cpus?: number
  /** dmesg lines matching one of these are expected (e.g. a test of insmod failing). */
  allowDmesg?: RegExp[]
}

export interface VmRun {
  /** Parsed results.jsonl, in the order the guest wrote them. */
  results: GuestResult[]
  /** Every other file the guest left in the share, by relative path (text). */
  files: Map<string, string>
  /** The guest script's exit code; undefined if the VM never reported one. */
  exitCode: number | undefined
  /** Why the run is unusable (boot failure, timeout, no result line); undefined when fine. */
  failure: string | undefined
  timedOut: boolean
  /** Serial console (kernel messages and init), and the script's own stdout+stderr. */
  console: string
  scriptOutput: string
  dmesg: string
  /** dmesg lines that must fail the test: WARNING, BUG, Oops, traces, ra6mon errors. */
  dmesgProblems: string[]
  wallMs: number
}

/** The kernel the VM boots: newest -amd64 release with an image, its modules and its headers. */
export function vmKernelRelease(): string | undefined {
  if (!existsSync('/lib/modules')) return undefined
  const releases = readdirSync('/lib/modules')
    .filter(r => r.endsWith('-amd64'))
    .filter(r => existsSync(`/boot/vmlinuz-${r}`) && existsSync(`/lib/modules/${r}/build/Makefile`))
  releases.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
  return releases.at(-1)
}

/** What a VM test needs; pass to need(t, vmNeeds()). */
export function vmNeeds(): Needs {
  const release = vmKernelRelease()
  const files = [busybox, initScript]
  if (release) files.push(`/boot/vmlinuz-${release}`)
  else files.push('/boot/vmlinuz-<release>-amd64 with /lib/modules/<release>/build (linux-image-amd64, linux-headers-amd64)')
  return { root: true, commands: ['qemu-system-x86_64', 'cpio', 'gzip', 'modprobe', 'make', 'gcc'], files }
}

function sha256(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(p).update('\0')
  return h.digest('hex').slice(0, 16)
}

/** .ko files (dependency order) that let the initramfs mount 9p for `release`. */
function bootModulePaths(release: string): string[] {
  const paths: string[] = []
  for (const m of bootModules) {
    const out = execFileSync('modprobe', ['-S', release, '--show-depends', m], { encoding: 'utf8' })
    for (const line of out.split('\n')) {
      const match = /^insmod (\S+)/.exec(line.trim())
      if (match?.[1] && !paths.includes(match[1])) paths.push(match[1])
    }
  }
  return paths
}

/**
 * Builds (or reuses) the initramfs for `release` under test/vm/out/. Rebuilt when any input
 * changes: busybox, init.sh, the boot modules. Written under a temporary name and renamed, so
 * concurrent suites never see half a file.
 */
export function ensureInitramfs(release: string): string {
  const modules = bootModulePaths(release)
  const stamp = [busybox, initScript, ...modules].map(p => `${p}:${statSync(p).size}:${statSync(p).mtimeMs}`)
  const key = sha256(release, readFileSync(initScript), ...stamp)
  const target = join(vmOutDir, `initramfs-${release}-${key}.cpio.gz`)
  if (existsSync(target)) return target
  mkdirSync(vmOutDir, { recursive: true })
  const root = mkdtempSync(join(tmpdir(), 'ra6vm-initramfs-'))
  try {
    for (const d of ['bin', 'proc', 'sys', 'dev', 'modules', 'host']) mkdirSync(join(root, d))
    copyFileSync(busybox, join(root, 'bin/busybox'))
    chmodSync(join(root, 'bin/busybox'), 0o755)
    copyFileSync(initScript, join(root, 'init'))
    chmodSync(join(root, 'init'), 0o755)
    writeFileSync(join(root, 'modprobe-wrapper'), '#!/bin/sh\nexec chroot /host /sbin/modprobe "$@"\n', { mode: 0o755 })
    const names = modules.map((m, i) => {
      const name = `${String(i).padStart(2, '0')}-${m.split('/').pop()}`
      copyFileSync(m, join(root, 'modules', name))
      return name
    })
    writeFileSync(join(root, 'modules/order'), names.join('\n') + '\n')
    const partial = `${target}.${process.pid}.tmp`
    execFileSync('sh', ['-c', `cd "${root}" && find . | sort | cpio -o -H newc --quiet | gzip -1 > "${partial}"`])
    renameSync(partial, target)
    return target
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

/** Builds kernel/ra6mon.ko for `release` (scripts/build-module.sh) and returns its path. */
export function ensureModule(release: string): string {
  execFileSync('bash', [join(repoRoot, 'scripts/build-module.sh')], {
    env: { ...process.env, KRELEASE: release }, stdio: ['ignore', 'ignore', 'inherit'],
  })
  return join(repoRoot, 'kernel/ra6mon.ko')
}

/**
 * Compiles a C helper under test/vm/ with gcc on the host (it runs in the guest, whose root is
 * the host's) into test/vm/out/, when the binary is missing or older than its source.
 */
export function ensureGuestTool(source: string, extraArgs: string[] = []): string {
  const src = resolve(repoRoot, source)
  const out = join(vmOutDir, src.split('/').pop()!.replace(/\.c$/, ''))
  const header = join(repoRoot, 'kernel/include/uapi/linux/ra6mon.h')
  const newest = Math.max(statSync(src).mtimeMs, statSync(header).mtimeMs)
  if (existsSync(out) && statSync(out).mtimeMs >= newest) return out
  mkdirSync(vmOutDir, { recursive: true })
  const partial = `${out}.${process.pid}.tmp`
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11',
    '-I', join(repoRoot, 'kernel/include/uapi'), '-o', partial, src, ...extraArgs], { stdio: 'inherit' })
  renameSync(partial, out)
  return out
}

const dmesgProblem = /(WARNING:|BUG:|Oops|general protection fault|Call Trace:|kernel BUG|UBSAN|KASAN|list_(add|del) corruption|refcount_t:|soft lockup|rcu.*detected stall|hung_task|Unable to handle)/
const ra6monLine = /\bra6mon: /
// The load banner, and the taint notes any unsigned out-of-tree module gets.
const ra6monFine = /\bra6mon: (version \S+ loaded, netlink protocol \d+|loading out-of-tree module taints kernel\.|module verification failed: signature and\/or required key missing - tainting kernel)$/

/** dmesg lines that fail a test: kernel splats, and any ra6mon line besides the load banner. */
export function findDmesgProblems(dmesg: string, allow: RegExp[] = []): string[] {
  return dmesg.split('\n').filter(line => {
    if (allow.some(re => re.test(line))) return false
    if (dmesgProblem.test(line)) return true
    return ra6monLine.test(line) && !ra6monFine.test(line)
  })
}

function readShare(dir: string): Map<string, string> {
  const files = new Map<string, string>()
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name)
      if (entry.isDirectory()) walk(p)
      else if (entry.isFile()) files.set(relative(dir, p), readFileSync(p, 'utf8'))
    }
  }
  walk(dir)
  return files
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** Boots the VM once, runs `options.script` inside, and collects everything it left behind. */
export async function runVm(options: VmOptions): Promise<VmRun> {
  const release = vmKernelRelease()
  if (!release) throw new Error('runVm: no bootable -amd64 kernel with headers (run scripts/setup.sh as root)')
  const initramfs = ensureInitramfs(release)
  const share = mkdtempSync(join(tmpdir(), 'ra6vm-share-'))
  const started = Date.now()
  try {
    mkdirSync(join(share, 'in'))
    for (const [name, content] of Object.entries(options.files ?? {})) {
      mkdirSync(dirname(join(share, 'in', name)), { recursive: true })
      writeFileSync(join(share, 'in', name), content)
    }
    const env: Record<string, string> = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/root', LANG: 'C.UTF-8', NO_COLOR: '1', CI: process.env.CI ?? '',
      RA6_VM_OUT: '/tmp/vmout', RA6_REPO: repoRoot, RA6_KRELEASE: release,
      // RA6_VM_MODULE runs a suite against another build (e.g. a deliberately broken one, to
      // prove the tests can fail); it must be outside /tmp, which the guest mounts over.
      RA6_MODULE: process.env.RA6_VM_MODULE ?? join(repoRoot, 'kernel/ra6mon.ko'),
      ...options.env,
    }
    const script = resolve(repoRoot, options.script)
    const job = [
      '#!/bin/bash',
      ...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
      `cd ${shellQuote(repoRoot)}`,
      `exec /bin/bash ${[script, ...(options.args ?? [])].map(shellQuote).join(' ')}`,
      '',
    ].join('\n')
    writeFileSync(join(share, 'job.sh'), job)
    writeFileSync(join(share, 'repo-path'), `${repoRoot}\n`)

    const qemuArgs = [
      '-accel', 'tcg', '-cpu', 'max', '-m', String(options.memoryMb ?? 512), '-smp', String(options.cpus ?? 1),
      '-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'stdio', '-no-reboot',
      '-kernel', `/boot/vmlinuz-${release}`, '-initrd', initramfs,
      '-append', 'console=ttyS0 loglevel=4 panic=-1 mitigations=off rdinit=/init',
      '-fsdev', 'local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap',
      '-device', 'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
      '-fsdev', `local,id=vmout,path=${share},security_model=none`,
      '-device', 'virtio-9p-pci,fsdev=vmout,mount_tag=vmout',
      // The repository again, on its own: the guest mounts tmpfs over /tmp and /run, which would
      // hide a checkout there (CI may clone to /tmp/...); init.sh mounts this at the same path.
      '-fsdev', `local,id=repo,path=${repoRoot},security_model=none,readonly=on,multidevs=remap`,
      '-device', 'virtio-9p-pci,fsdev=repo,mount_tag=repo',
    ]
    const qemu = spawn('qemu-system-x86_64', qemuArgs, { stdio: ['ignore', 'pipe', 'pipe'] })
    let consoleText = ''
    qemu.stdout.on('data', (d: Buffer) => { consoleText += d.toString('utf8') })
    qemu.stderr.on('data', (d: Buffer) => { consoleText += d.toString('utf8') })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      if (qemu.pid) process.kill(qemu.pid, 'SIGKILL')
    }, options.timeoutMs)
    await new Promise<void>(done => qemu.on('close', () => done()))
    clearTimeout(timer)

    const files = readShare(share)
    files.delete('job.sh')
    files.delete('repo-path')
    const results: GuestResult[] = []
    for (const line of (files.get('results.jsonl') ?? '').split('\n')) {
      if (line.trim()) results.push(JSON.parse(line) as GuestResult)
    }
    const dmesg = files.get('dmesg.txt') ?? ''
    const resultLine = /RA6VM-RESULT rc=(\S+)(.*)/.exec(consoleText)
    const exitCode = resultLine && /^\d+$/.test(resultLine[1] ?? '') ? Number(resultLine[1]) : undefined
    let failure: string | undefined
    if (timedOut) failure = `VM timed out after ${options.timeoutMs} ms`
    else if (!resultLine) failure = 'the VM printed no RA6VM-RESULT line (crashed or never booted)'
    else if (exitCode === undefined) failure = `the VM failed to boot: ${resultLine[1]}${resultLine[2]}`
    return {
      results, files, exitCode, failure, timedOut,
      console: consoleText, scriptOutput: files.get('console.log') ?? '',
      dmesg, dmesgProblems: findDmesgProblems(dmesg, options.allowDmesg),
      wallMs: Date.now() - started,
    }
  } finally {
    if (process.env.RA6_VM_KEEP) process.stderr.write(`# RA6_VM_KEEP: share kept at ${share}\n`)
    else rmSync(share, { recursive: true, force: true })
  }
}

/** Parses /proc/net/ra6mon text ("name value" lines) into numbers; client lines as a list. */
export function parseProcStats(text: string): { counters: Record<string, number>; clients: string[] } {
  const counters: Record<string, number> = {}
  const clients: string[] = []
  for (const line of text.split('\n')) {
    const kv = /^(\w+) (\d+)$/.exec(line)
    if (kv?.[1] && kv[2]) counters[kv[1]] = Number(kv[2])
    else if (line.startsWith('client ')) clients.push(line)
  }
  return { counters, clients }
}
