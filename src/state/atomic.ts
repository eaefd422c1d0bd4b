// Crash-safe file replacement: the file at `path` is always either the old complete content or the
// new complete content, whatever moment the process is killed or the machine loses power.
// Recipe: write a temporary file in the same directory (rename is atomic only within one file
// system), fsync it, rename it over the target, then fsync the directory so the rename itself is
// durable.
import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export interface AtomicWriteOptions {
  /** Permission bits of the new file; 0600 by default (leases and DUIDs are private). */
  mode?: number
  /** Creates the directory (mode 0700) when missing. */
  createDirectory?: boolean
}

const TEMP_MARKER = '.tmp-'

/** The temporary-file prefix for `path`; stale ones are left by writers killed mid-write. */
function tempPrefix(path: string): string {
  return `.${basename(path)}${TEMP_MARKER}`
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o600
  const directory = dirname(path)
  if (options.createDirectory) await mkdir(directory, { recursive: true, mode: 0o700 })
  const temp = join(directory, `${tempPrefix(path)}${process.pid}-${randomBytes(4).toString('hex')}`)
  let handle: FileHandle | undefined
  try {
    handle = await open(temp, 'wx', mode)
    // open() applies the umask; chmod makes the mode exact (e.g. 0644 for a resolv.conf fragment).
    await handle.chmod(mode)
    await handle.writeFile(data)
    await handle.sync()
    await handle.close()
    handle = undefined
    await rename(temp, path)
  } catch (err) {
    await handle?.close().catch(() => undefined)
    await unlink(temp).catch(() => undefined)
    throw err
  }
  await syncDirectory(directory)
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Removes temporary files that writers of `path` left when killed between creating and renaming
 * them. Only this process's own files may still be in use, so those are kept. Returns the names
 * removed.
 */
export async function removeStaleTemporaries(path: string): Promise<string[]> {
  const prefix = tempPrefix(path)
  const own = `${prefix}${process.pid}-`
  let names: string[]
  try {
    names = await readdir(dirname(path))
  } catch {
    return []
  }
  const stale = names.filter(name => name.startsWith(prefix) && !name.startsWith(own))
  for (const name of stale) await unlink(join(dirname(path), name)).catch(() => undefined)
  return stale
}
