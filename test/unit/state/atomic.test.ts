import t from 'tap'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { removeStaleTemporaries, writeFileAtomic } from '../../../src/state/atomic.js'

const writer = fileURLToPath(new URL('./fixtures/atomic-writer.ts', import.meta.url))
// Run the TypeScript fixture with the same loader tap uses for this file.
const loaderArgs = process.execArgv.filter(a => a.includes('@tapjs/typescript'))

function tempDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ra6dhcp-atomic-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('replaces content, mode 0600 by default (exact even under a umask), leaves no temporary file', async t => {
  const dir = tempDir(t)
  const path = join(dir, 'lease.json')
  await writeFileAtomic(path, 'one')
  await writeFileAtomic(path, 'two')
  t.equal(readFileSync(path, 'utf8'), 'two')
  t.equal(statSync(path).mode & 0o777, 0o600)
  await writeFileAtomic(join(dir, 'resolv.conf'), 'x', { mode: 0o644 })
  t.equal(statSync(join(dir, 'resolv.conf')).mode & 0o777, 0o644)
  t.same(readdirSync(dir).sort(), ['lease.json', 'resolv.conf'])
})

t.test('creates the directory when asked; a failed write leaves the old file and no temporary', async t => {
  const dir = tempDir(t)
  const path = join(dir, 'sub', 'x.json')
  await writeFileAtomic(path, 'old', { createDirectory: true })
  t.equal(statSync(join(dir, 'sub')).mode & 0o777, 0o700)
  await t.rejects(writeFileAtomic(join(dir, 'missing', 'y'), 'z'), { code: 'ENOENT' })
  // A directory in the way of the rename: the write fails, the temporary is removed.
  const blocked = join(dir, 'sub', 'blocked')
  await writeFileAtomic(join(blocked, 'inner'), 'i', { createDirectory: true })
  await t.rejects(writeFileAtomic(blocked, 'new'))
  t.same(readdirSync(join(dir, 'sub')).sort(), ['blocked', 'x.json'])
  t.equal(readFileSync(path, 'utf8'), 'old')
})

t.test('stale temporaries of other writers are removed, our own and unrelated files kept', async t => {
  const dir = tempDir(t)
  const path = join(dir, 'lease.json')
  writeFileSync(join(dir, '.lease.json.tmp-999999-abcd'), 'torn')
  writeFileSync(join(dir, `.lease.json.tmp-${process.pid}-beef`), 'in use')
  writeFileSync(join(dir, '.other.json.tmp-999999-abcd'), 'not ours')
  t.same(await removeStaleTemporaries(path), ['.lease.json.tmp-999999-abcd'])
  t.same(readdirSync(dir).sort(), [`.lease.json.tmp-${process.pid}-beef`, '.other.json.tmp-999999-abcd'])
})

/** Starts the writer, kills it with SIGKILL `delayMs` after its first complete write. */
function killWriterMidway(path: string, mode: 'atomic' | 'naive', delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...loaderArgs, writer, path, mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', NODE_OPTIONS: '' },
    })
    let ready = false
    child.stdout.on('data', (chunk: Buffer) => {
      if (!ready && chunk.toString().includes('ready')) {
        ready = true
        setTimeout(() => child.kill('SIGKILL'), delayMs)
      }
    })
    child.once('error', reject)
    child.once('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer ended by itself (${signal ?? _code})`))))
  })
}

function intact(path: string): boolean {
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { sha256: string; payload: string }
    return createHash('sha256').update(doc.payload).digest('hex') === doc.sha256
  } catch {
    return false
  }
}

t.test('a writer killed with SIGKILL at random moments never leaves a torn file', async t => {
  if (loaderArgs.length === 0) {
    t.fail('cannot find the TypeScript loader in process.execArgv: run this file with tap')
    return
  }
  const dir = tempDir(t)
  const path = join(dir, 'state.json')
  const kills = 8
  let seed = 12345
  for (let i = 0; i < kills; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0
    const delay = 5 + (seed % 120)
    await killWriterMidway(path, 'atomic', delay)
    t.ok(intact(path), `kill ${i + 1} after ${delay} ms: file complete and consistent`)
  }
  const leftovers = await removeStaleTemporaries(path)
  t.comment(`${leftovers.length} temporary file(s) of killed writers cleaned up`)
  t.same(readdirSync(dir), ['state.json'], 'only the state file remains after cleanup')
})
