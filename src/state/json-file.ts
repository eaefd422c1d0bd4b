// Versioned JSON state files: loading never crashes and never silently drops data. A file that
// is not valid JSON, not ours, or of an unknown version is renamed to `NAME.corrupt-TIMESTAMP`
// (kept for the user to inspect) and reported to the caller with the reason.
import { readFile, rename } from 'node:fs/promises'
import { removeStaleTemporaries, writeFileAtomic } from './atomic.js'

export type LoadResult<T> =
  | { status: 'missing' }
  | { status: 'loaded'; value: T }
  | { status: 'moved-aside'; reason: string; movedTo: string }

/** Checks a parsed document's payload; returns the typed value or throws an Error naming the problem. */
export type Validator<T> = (payload: unknown) => T

export interface JsonFileFormat<T> {
  /** Written as `format`: tells our files apart from a foreign JSON file at the same path. */
  readonly format: string
  readonly version: number
  readonly validate: Validator<T>
}

export async function loadJsonFile<T>(path: string, spec: JsonFileFormat<T>): Promise<LoadResult<T>> {
  await removeStaleTemporaries(path)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' }
    throw err
  }
  let reason: string
  try {
    const doc = JSON.parse(text) as unknown
    if (!isRecord(doc)) throw new Error('not a JSON object')
    if (doc.format !== spec.format) throw new Error(`not a ${spec.format} file (format ${JSON.stringify(doc.format)})`)
    if (doc.version !== spec.version) throw new Error(`unsupported version ${JSON.stringify(doc.version)} (this ra6dhcp reads version ${spec.version})`)
    return { status: 'loaded', value: spec.validate(doc.data) }
  } catch (err) {
    reason = (err as Error).message
  }
  const movedTo = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`
  await rename(path, movedTo)
  return { status: 'moved-aside', reason, movedTo }
}

export async function saveJsonFile<T>(path: string, spec: JsonFileFormat<T>, value: T, mode = 0o600): Promise<void> {
  spec.validate(value) // never persist something we would refuse to load
  const doc = { format: spec.format, version: spec.version, data: value }
  await writeFileAtomic(path, `${JSON.stringify(doc, null, 2)}\n`, { mode, createDirectory: true })
}

// Small schema helpers shared by the stores' validators.
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function field<T>(obj: Record<string, unknown>, key: string, check: (v: unknown) => v is T, what: string, path: string): T {
  const value = obj[key]
  if (!check(value)) throw new Error(`${path}.${key}: expected ${what}, got ${JSON.stringify(value)}`)
  return value
}

export const isString = (v: unknown): v is string => typeof v === 'string'
export const isUint32 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff
export const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
export const isHex = (v: unknown): v is string => typeof v === 'string' && /^([0-9a-f]{2})*$/.test(v)
export const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString)
