// The client's DUID (RFC 8415 section 11): built once, persisted as hex in STATE_DIR/duid.json
// (mode 0600) and reused for ever after, so servers keep recognising the host across restarts.
import { randomUUID } from 'node:crypto'
import { duidLength, encodeDuid } from '../dhcpv6/duid.js'
import type { Duid } from '../dhcpv6/model.js'
import { statePaths } from './paths.js'
import { UsageError } from '../cli/usage-error.js'
import { field, isHex, isRecord, loadJsonFile, saveJsonFile, type JsonFileFormat } from './json-file.js'

/** ARP hardware type of Ethernet (IANA "Hardware Types"), the usual one in DUID-LLT/DUID-LL. */
export const HWTYPE_ETHERNET = 1
/** A DUID is 2 bytes of type plus at most 128 bytes (RFC 8415 section 11.1). */
const DUID_MAX_LENGTH = 130
/** DUID-LLT time counts seconds from midnight UTC, 1 January 2000, modulo 2^32 (section 11.2). */
const DUID_EPOCH_MS = Date.UTC(2000, 0, 1)

/** The wire bytes of a DUID; the layout of each type lives in the codec alone. */
function duidBytes(duid: Duid): Uint8Array {
  const out = new Uint8Array(duidLength(duid))
  encodeDuid(duid, out, 0)
  return checkDuidLength(out)
}

export function duidLlt(linkLayerAddress: Uint8Array, nowMs: number, hardwareType = HWTYPE_ETHERNET): Uint8Array {
  const time = Math.floor((nowMs - DUID_EPOCH_MS) / 1000) >>> 0
  return duidBytes({ type: 'llt', hardwareType, time, linkLayerAddress })
}

export function duidLl(linkLayerAddress: Uint8Array, hardwareType = HWTYPE_ETHERNET): Uint8Array {
  return duidBytes({ type: 'll', hardwareType, linkLayerAddress })
}

export function duidEn(enterpriseNumber: number, identifier: Uint8Array): Uint8Array {
  if (!Number.isInteger(enterpriseNumber) || enterpriseNumber < 0 || enterpriseNumber > 0xffffffff) {
    throw new UsageError(`DUID-EN enterprise number ${enterpriseNumber} is not a 32-bit number: use the IANA Private Enterprise Number`)
  }
  if (identifier.length === 0) throw new UsageError('DUID-EN needs a non-empty identifier (hex)')
  return duidBytes({ type: 'en', enterpriseNumber, identifier })
}

/** DUID-UUID (RFC 6355): type 4 followed by the 16 bytes of the UUID; a random one by default. */
export function duidUuid(uuid: string = randomUUID()): Uint8Array {
  const hex = uuid.replace(/-/g, '').toLowerCase()
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new UsageError(`'${uuid}' is not a UUID: write it as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`)
  return duidBytes({ type: 'uuid', uuid: Buffer.from(hex, 'hex') })
}

/** Parses a DUID given as hex in configuration ("00:01:00:01:..." or "000100..."). */
export function parseDuidHex(text: string): Uint8Array {
  const hex = text.replace(/[:\s-]/g, '').toLowerCase()
  if (!/^([0-9a-f]{2})+$/.test(hex)) throw new UsageError(`DUID '${text}' is not hex: write bytes as 00:01:00:01:... or 00010001...`)
  const bytes = Buffer.from(hex, 'hex')
  if (bytes.length < 3) throw new UsageError(`DUID '${text}' is too short: a DUID is a 2-byte type and at least one byte of identifier`)
  return checkDuidLength(bytes)
}

function checkDuidLength(bytes: Uint8Array): Uint8Array {
  if (bytes.length > DUID_MAX_LENGTH) throw new UsageError(`a DUID is at most ${DUID_MAX_LENGTH} bytes, this one has ${bytes.length}`)
  return bytes
}

export function duidToHex(duid: Uint8Array): string {
  return Buffer.from(duid).toString('hex')
}

const DUID_FORMAT: JsonFileFormat<{ duid: string }> = {
  format: 'ra6dhcp-duid',
  version: 1,
  validate(payload) {
    if (!isRecord(payload)) throw new Error('data: expected an object')
    const duid = field(payload, 'duid', isHex, 'lowercase hex', 'data')
    if (duid.length < 6 || duid.length > DUID_MAX_LENGTH * 2) throw new Error(`data.duid: ${duid.length / 2} bytes is not a DUID length`)
    return { duid }
  },
}

export interface DuidResult {
  duid: Uint8Array
  /** True when this call created (and persisted) the DUID. */
  created: boolean
  /** Set when an unreadable DUID file was moved aside and a new DUID created: worth a warning. */
  replaced?: { reason: string; movedTo: string }
}

export class DuidStore {
  constructor(readonly stateDir: string) {}

  get path(): string {
    return statePaths(this.stateDir).duid
  }

  /** Returns the persisted DUID, or builds one with `create`, persists it and returns it. */
  async loadOrCreate(create: () => Uint8Array): Promise<DuidResult> {
    const loaded = await loadJsonFile(this.path, DUID_FORMAT)
    if (loaded.status === 'loaded') return { duid: Buffer.from(loaded.value.duid, 'hex'), created: false }
    const duid = create()
    await saveJsonFile(this.path, DUID_FORMAT, { duid: duidToHex(duid) })
    const result: DuidResult = { duid, created: true }
    if (loaded.status === 'moved-aside') result.replaced = { reason: loaded.reason, movedTo: loaded.movedTo }
    return result
  }

  /** Replaces the persisted DUID (a DUID chosen in the configuration wins over the stored one). */
  async save(duid: Uint8Array): Promise<void> {
    await saveJsonFile(this.path, DUID_FORMAT, { duid: duidToHex(duid) })
  }
}
