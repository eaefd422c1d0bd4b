// IAIDs (RFC 8415 section 12): each IA the client asks for needs an IAID that stays the same
// across restarts and is unique among the client's IAs of the same type on the whole host.
// They are derived once from the interface's MAC address (its last 4 bytes, as other clients do)
// or ifindex, made unique, and persisted in STATE_DIR/iaids.json, so a later change of MAC,
// ifindex or interface order does not move them.
import { statePaths } from './paths.js'
import { checkInterfaceName } from './interface-name.js'
import { field, isRecord, isUint32, loadJsonFile, saveJsonFile, type JsonFileFormat, type LoadResult } from './json-file.js'

export type IaType = 'na' | 'pd' | 'ta'

/** Key "IF/TYPE/INDEX" (INDEX counts the interface's IAs of that type from 0) to IAID. */
type IaidTable = Record<string, number>

const IAID_FORMAT: JsonFileFormat<IaidTable> = {
  format: 'ra6dhcp-iaids',
  version: 1,
  validate(payload) {
    if (!isRecord(payload)) throw new Error('data: expected an object')
    const table: IaidTable = {}
    for (const key of Object.keys(payload)) {
      if (!/^[A-Za-z0-9_.:@-]{1,15}\/(na|pd|ta)\/\d+$/.test(key)) throw new Error(`data: bad key ${JSON.stringify(key)}`)
      table[key] = field(payload, key, isUint32, 'a 32-bit IAID', 'data')
    }
    return table
  },
}

export interface InterfaceIdentity {
  /** The interface's hardware address, if it has one. */
  mac?: Uint8Array
  ifindex: number
}

export class IaidStore {
  private table: IaidTable | undefined
  /** Serialises allocations so two concurrent callers never pick the same IAID. */
  private queue: Promise<unknown> = Promise.resolve()
  /** What happened when the file was first read (e.g. moved aside), for the caller to log. */
  loadResult: LoadResult<IaidTable> | undefined

  constructor(readonly stateDir: string) {}

  get path(): string {
    return statePaths(this.stateDir).iaids
  }

  /** The IAID for the `index`-th IA of `type` on `ifname`: the persisted one, or a new unique one. */
  iaidFor(ifname: string, type: IaType, index: number, identity: InterfaceIdentity): Promise<number> {
    const run = this.queue.then(() => this.allocate(ifname, type, index, identity))
    this.queue = run.catch(() => undefined)
    return run
  }

  private async allocate(ifname: string, type: IaType, index: number, identity: InterfaceIdentity): Promise<number> {
    checkInterfaceName(ifname)
    if (!Number.isInteger(index) || index < 0) throw new RangeError(`IA index must be an integer >= 0, got ${index}`)
    const table = await this.load()
    const key = `${ifname}/${type}/${index}`
    const existing = table[key]
    if (existing !== undefined) return existing
    const taken = new Set(Object.entries(table).filter(([k]) => k.split('/')[1] === type).map(([, v]) => v))
    let candidate = (deriveIaid(identity) + index) >>> 0
    while (taken.has(candidate)) candidate = (candidate + 1) >>> 0
    table[key] = candidate
    await saveJsonFile(this.path, IAID_FORMAT, table)
    return candidate
  }

  private async load(): Promise<IaidTable> {
    if (this.table) return this.table
    this.loadResult = await loadJsonFile(this.path, IAID_FORMAT)
    this.table = this.loadResult.status === 'loaded' ? this.loadResult.value : {}
    return this.table
  }
}

function deriveIaid(identity: InterfaceIdentity): number {
  const mac = identity.mac
  if (mac && mac.length >= 4 && mac.some(b => b !== 0)) return Buffer.from(mac.subarray(mac.length - 4)).readUInt32BE(0)
  return identity.ifindex >>> 0
}
