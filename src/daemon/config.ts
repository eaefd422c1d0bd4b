// `ra6dhcp run` settings: defaults < config file (top level, then its per-interface section) <
// command-line flags. Every flag and config key is validated here and only here; a bad value is a
// UsageError that names the flag or key, what was given and what to write instead.
//
// The config file is JSON. Its keys are the long flag names without "--", so a user who knows
// the flags knows the file:
//
//   { "profile": "rfc3315", "log-level": "debug",
//     "interfaces": { "eth0": { "ia-na": 1, "ia-pd": "1/56", "rapid-commit": true } } }
import { accessSync, constants as fsConstants, existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { UsageError } from '../cli/usage-error.js'
import { PROFILE_NAMES, type ProfileName } from '../client/profiles.js'
import { ON_RA_MODES, type OnRaMode } from '../client/machine/machine.js'
import { parseDuidHex } from '../state/duid.js'
import { checkInterfaceName } from '../state/interface-name.js'
import { subnet64 } from '../system/delegated-prefix.js'
import { checkFragmentPath, defaultResolvFragmentPath } from '../system/resolv.js'
import { DEFAULT_STATE_DIR } from '../state/paths.js'
import { LOG_FORMATS, LOG_LEVELS, type LogFormat } from '../log/logger.js'
import type { LevelWithSilent } from 'pino'

export const RA_SOURCES = ['auto', 'ra6mon', 'rtnetlink'] as const

export type RaSourceSetting = (typeof RA_SOURCES)[number]
export type { OnRaMode }
export type LogLevel = LevelWithSilent
export { DEFAULT_STATE_DIR }
export const DEFAULT_CONTROL_SOCKET = '/run/ra6dhcp/ra6dhcp.sock'
/** In a --resolv-conf path, replaced by the interface name (one fragment per interface). */
export const INTERFACE_TOKEN = '{if}'
/** sun_path is 108 bytes with its terminating NUL. */
const UNIX_PATH_MAX = 107
const MAX_IAS = 16
const MAX_SOL_MAX_DELAY = 3600
const MAX_LINK_DEBOUNCE_MS = 10_000

export type DuidSetting =
  | { type: 'llt' | 'll' | 'uuid' }
  | { type: 'en'; enterpriseNumber: number; identifierHex: string }
  | { type: 'raw'; hex: string }

/** What one interface's client is configured to do. */
export interface InterfaceSettings {
  profile: ProfileName
  onRa: OnRaMode
  releaseOnStop: boolean
  rapidCommit: boolean
  /**
   * Send Reconfigure Accept and act on a server's Reconfigure (RFC 8415 sections 18.2.11, 20.4:
   * only with the RKAP key that server handed out; unauthenticated or replayed ones are dropped).
   */
  reconfigureAccept: boolean
  /** Seconds; the random delay before the first Solicit is drawn from 0..solMaxDelay. */
  solMaxDelay: number
  /** How many IA_NAs to ask for (their IAIDs are allocated and persisted per interface). */
  iaNa: number
  iaPd: { count: number; prefixLength?: number }
  /** Information-request only (no IAs). */
  stateless: boolean
  hook?: string
  /** The resolv.conf fragment this interface's DNS settings go to (absolute). */
  resolvConf: string
  /** Which interface gets a /64 of the delegated prefix (its address ::1), and which /64. */
  pdDownstream?: PdDownstreamSetting
}

export interface PdDownstreamSetting {
  interface: string
  /** The n-th /64 of the delegated prefix (0 = the first). */
  subnetIndex: number
}

export interface DaemonSettings {
  configFile?: string
  raSource: RaSourceSetting
  stateDir: string
  controlSocket: string
  logFormat: LogFormat
  logLevel: LogLevel
  duid: DuidSetting
  /** Watch the interfaces' link state (carrier) through rtnetlink: a link down/up leads to Confirm. */
  linkWatch: boolean
  /** Quiet time before a link change counts (0: at the end of the kernel's batch of messages). */
  linkDebounceMs: number
  /** The interfaces to run on, in order, each with its settings. */
  interfaces: Map<string, InterfaceSettings>
}

/** The `ra6dhcp run` flags as commander hands them over (strings, booleans, string lists). */
export interface RunFlags {
  config?: string
  profile?: string
  raSource?: string
  onRa?: string
  stateDir?: string
  logFormat?: string
  logLevel?: string
  hook?: string
  controlSocket?: string
  resolvConf?: string
  releaseOnStop?: boolean
  rapidCommit?: boolean
  reconfigureAccept?: boolean
  solMaxDelay?: string
  duidType?: string
  iaNa?: string
  iaPd?: string
  stateless?: boolean
  pdDownstream?: string
  linkWatch?: string
  linkDebounce?: string
}

/** Host facts the validation needs; tests pass their own. */
export interface ConfigEnvironment {
  interfaceExists(ifname: string): boolean
  cwd: string
}

export const hostEnvironment: ConfigEnvironment = {
  interfaceExists: ifname => existsSync(`/sys/class/net/${ifname}`),
  get cwd() { return process.cwd() },
}

// --- the keys ------------------------------------------------------------------------------

type Scope = 'daemon' | 'interface'

/** Raw values of the keys, before validation: strings from flags, JSON values from the file. */
type RawValues = Partial<Record<KeyName, unknown>>

const KEYS = {
  'profile': 'interface',
  'on-ra': 'interface',
  'release-on-stop': 'interface',
  'rapid-commit': 'interface',
  'reconfigure-accept': 'interface',
  'sol-max-delay': 'interface',
  'ia-na': 'interface',
  'ia-pd': 'interface',
  'stateless': 'interface',
  'hook': 'interface',
  'resolv-conf': 'interface',
  'pd-downstream': 'interface',
  'ra-source': 'daemon',
  'state-dir': 'daemon',
  'control-socket': 'daemon',
  'log-format': 'daemon',
  'log-level': 'daemon',
  'duid-type': 'daemon',
  'link-watch': 'daemon',
  'link-debounce': 'daemon',
} as const satisfies Record<string, Scope>

type KeyName = keyof typeof KEYS
const KEY_NAMES = Object.keys(KEYS) as KeyName[]

/**
 * Keys whose change a SIGHUP cannot apply to a running daemon: the daemon-wide ones it opened
 * at start. Every per-interface key is applied by giving that interface a new client.
 */
export const RESTART_KEYS: readonly string[] = ['ra-source', 'state-dir', 'control-socket', 'log-format', 'duid-type', 'link-watch', 'link-debounce']

/** Where a value came from, for messages: "--profile" or "config /etc/ra6dhcp.json: interfaces.eth0.profile". */
interface Origin {
  label: string
  /** Directory relative paths are resolved against. */
  baseDir: string
  fromFile: boolean
}

function flagOrigin(key: KeyName, env: ConfigEnvironment): Origin {
  return { label: `--${key}`, baseDir: env.cwd, fromFile: false }
}

function choice<T extends string>(origin: Origin, value: unknown, choices: readonly T[]): T {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T
  const list = choices.length === 2 ? `${choices[0]} or ${choices[1]}` : `one of ${choices.join(', ')}`
  throw new UsageError(`${origin.label} must be ${list} (got ${show(value)})`)
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value)
}

function bool(origin: Origin, value: unknown): boolean {
  if (typeof value === 'boolean') return value
  throw new UsageError(`${origin.label} must be true or false (got ${show(value)})`)
}

/** Flags give strings, the file may give numbers: both are accepted for numeric keys. */
function numberText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value === 'string') return value.trim()
  return undefined
}

function count(origin: Origin, value: unknown): number {
  const text = numberText(value)
  if (text === undefined || !/^\d+$/.test(text) || Number(text) > MAX_IAS) {
    throw new UsageError(`${origin.label} must be a whole number of IAs from 0 to ${MAX_IAS} (got ${show(value)}), e.g. ${origin.fromFile ? '1' : `${origin.label} 1`}`)
  }
  return Number(text)
}

function iaPd(origin: Origin, value: unknown): InterfaceSettings['iaPd'] {
  const text = numberText(value)
  const match = text === undefined ? null : /^(\d+)(?:\/(\d+))?$/.exec(text)
  const n = match ? Number(match[1]) : NaN
  const length = match?.[2] === undefined ? undefined : Number(match[2])
  if (!match || n > MAX_IAS || (length !== undefined && (length < 1 || length > 128))) {
    throw new UsageError(`${origin.label} must be N or N/LEN: N prefixes (0 to ${MAX_IAS}) with an optional prefix-length hint LEN from 1 to 128 (got ${show(value)}), e.g. ${origin.fromFile ? '"1/56"' : `${origin.label} 1/56`}`)
  }
  return length === undefined ? { count: n } : { count: n, prefixLength: length }
}

const PD_DOWNSTREAM_FORM = 'IF or IF:N: the interface that gets a /64 of the delegated prefix and which /64 (N from 0, decimal or 0x hex; default 0)'

/**
 * `--pd-downstream IF[:N]`. Checked against the interface's own settings (it needs an IA_PD, and
 * the /64 must fit in a prefix-length hint) once those are known.
 */
function pdDownstream(origin: Origin, value: unknown, env: ConfigEnvironment): PdDownstreamSetting {
  const example = origin.fromFile ? '"lan0:1"' : `${origin.label} lan0:1`
  const match = typeof value === 'string' ? /^(.+?)(?::(0x[0-9a-f]+|\d+))?$/i.exec(value.trim()) : null
  const subnetIndex = match?.[2] === undefined ? 0 : Number(match[2])
  if (!match || !Number.isSafeInteger(subnetIndex)) {
    throw new UsageError(`${origin.label} must be ${PD_DOWNSTREAM_FORM} (got ${show(value)}), e.g. ${example}`)
  }
  return { interface: interfaceName(`${origin.label}: `, match[1]!, env), subnetIndex }
}

/** The downstream interface is not a client interface, and its /64 can come from what is asked for. */
function checkPdDownstream(origin: Origin, setting: PdDownstreamSetting, ifname: string, clientInterfaces: readonly string[], settings: InterfaceSettings): void {
  const iaPdSetting = settings.iaPd
  const downstream = setting.interface
  if (downstream === ifname) {
    throw new UsageError(`${origin.label}: ${downstream} is the interface the prefix is asked for on: the /64 goes to another interface (e.g. your LAN), name that one`)
  }
  if (clientInterfaces.includes(downstream)) {
    throw new UsageError(`${origin.label}: ${downstream} is a DHCPv6 client interface of this daemon too: give the /64 to an interface the daemon does not run on`)
  }
  if (settings.stateless) {
    throw new UsageError(`${origin.label} needs a delegated prefix, but ${ifname} is stateless (Information-request only): drop one of them`)
  }
  if (iaPdSetting.count === 0) {
    throw new UsageError(`${origin.label} needs a delegated prefix, but ${ifname} asks for none: add --ia-pd 1 (config "ia-pd": 1)`)
  }
  const hint = iaPdSetting.prefixLength
  if (hint === undefined) return // the server's prefix is checked when it comes
  if (hint > 64) {
    throw new UsageError(`${origin.label} needs a /64 or shorter prefix, but ia-pd asks for a /${hint}: ask for one that holds /64s, e.g. --ia-pd 1/56`)
  }
  try {
    subnet64('::', hint, setting.subnetIndex)
  } catch (err) {
    throw new UsageError(`${origin.label}: ${(err as Error).message}, the prefix length ia-pd asks for: choose a smaller /64 index or ask for a shorter prefix`)
  }
}

function seconds(origin: Origin, value: unknown): number {
  const text = numberText(value)
  const n = text !== undefined && /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN
  if (!(n >= 0 && n <= MAX_SOL_MAX_DELAY)) {
    throw new UsageError(`${origin.label} must be a number of seconds from 0 to ${MAX_SOL_MAX_DELAY} (got ${show(value)}), e.g. ${origin.fromFile ? '0' : `${origin.label} 0`} to send the first Solicit at once`)
  }
  return n
}

/** `--link-watch on|off`; the file may say true/false too. */
function onOff(origin: Origin, value: unknown): boolean {
  if (value === 'on' || (origin.fromFile && value === true)) return true
  if (value === 'off' || (origin.fromFile && value === false)) return false
  throw new UsageError(`${origin.label} must be on or off (got ${show(value)}), e.g. ${origin.fromFile ? '"off"' : `${origin.label} off`} to leave link changes to \`ra6dhcp ctl ifdown\`/\`ifup\``)
}

function milliseconds(origin: Origin, value: unknown): number {
  const text = numberText(value)
  if (text === undefined || !/^\d+$/.test(text) || Number(text) > MAX_LINK_DEBOUNCE_MS) {
    throw new UsageError(`${origin.label} must be a whole number of milliseconds from 0 to ${MAX_LINK_DEBOUNCE_MS} (got ${show(value)}), e.g. ${origin.fromFile ? '300' : `${origin.label} 300`}; 0 takes each link change at once`)
  }
  return Number(text)
}

function path(origin: Origin, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new UsageError(`${origin.label} must be a file path (got ${show(value)})`)
  }
  return isAbsolute(value) ? value : resolve(origin.baseDir, value)
}

function hookScript(origin: Origin, value: unknown): string {
  const script = path(origin, value)
  let regular = false
  try { regular = statSync(script).isFile() } catch { /* reported below */ }
  if (!regular) throw new UsageError(`${origin.label} ${script}: no such file: give the path of your hook script`)
  try { accessSync(script, fsConstants.X_OK) } catch {
    throw new UsageError(`${origin.label} ${script}: not executable: run \`chmod +x ${script}\``)
  }
  return script
}

function controlSocket(origin: Origin, value: unknown): string {
  const socket = path(origin, value)
  if (Buffer.byteLength(socket) > UNIX_PATH_MAX) {
    throw new UsageError(`${origin.label} ${socket}: a unix socket path is at most ${UNIX_PATH_MAX} bytes: choose a shorter one, e.g. ${DEFAULT_CONTROL_SOCKET}`)
  }
  return socket
}

const DUID_HELP = 'llt, ll, uuid, en:ENTERPRISE-NUMBER:HEX-IDENTIFIER or the whole DUID in hex (e.g. 00:03:00:01:02:00:00:00:00:01)'

function duid(origin: Origin, value: unknown): DuidSetting {
  if (value === 'llt' || value === 'll' || value === 'uuid') return { type: value }
  if (typeof value !== 'string') throw new UsageError(`${origin.label} must be ${DUID_HELP} (got ${show(value)})`)
  if (value === 'en' || value.startsWith('en:')) {
    const match = /^en:(\d+):([0-9a-fA-F:]+)$/.exec(value)
    const enterpriseNumber = match ? Number(match[1]) : NaN
    const identifierHex = match?.[2]?.replace(/:/g, '').toLowerCase() ?? ''
    if (!match || enterpriseNumber > 0xffffffff || identifierHex.length === 0 || identifierHex.length % 2 !== 0) {
      throw new UsageError(`${origin.label} ${value}: DUID-EN needs your IANA enterprise number and an identifier in hex: write en:ENTERPRISE-NUMBER:HEX, e.g. en:32473:0011aabb`)
    }
    return { type: 'en', enterpriseNumber, identifierHex }
  }
  try {
    return { type: 'raw', hex: Buffer.from(parseDuidHex(value)).toString('hex') }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw new UsageError(`${origin.label} must be ${DUID_HELP} (got ${show(value)}: ${why})`)
  }
}

function interfaceName(label: string, ifname: string, env: ConfigEnvironment): string {
  try {
    checkInterfaceName(ifname)
  } catch {
    throw new UsageError(`${label}'${ifname}' is not an interface name: give a name shown by \`ip link\` (1-15 characters, no '/' or spaces)`)
  }
  if (!env.interfaceExists(ifname)) {
    throw new UsageError(`${label}interface '${ifname}' does not exist: list interfaces with \`ip link\` (in a namespace, run under \`ip netns exec NS\`)`)
  }
  return ifname
}

// --- the config file -------------------------------------------------------------------------

interface ConfigFile {
  path: string
  global: RawValues
  interfaces: Map<string, RawValues>
}

/** Levenshtein distance, for "did you mean" on misspelt keys. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

function suggestion(key: string, candidates: readonly string[]): string {
  const normalized = key.toLowerCase().replace(/_/g, '-').replace(/([a-z])([A-Z])/g, '$1-$2')
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const d = distance(normalized, candidate)
    if (d < bestDistance) { best = candidate; bestDistance = d }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3))
    ? ` (did you mean '${best}'?)`
    : ` (known keys: ${candidates.join(', ')})`
}

function readKeys(file: string, where: string, object: Record<string, unknown>, scope: 'top' | 'interface'): RawValues {
  const values: RawValues = {}
  const allowed = scope === 'top' ? [...KEY_NAMES, 'interfaces'] : KEY_NAMES.filter(k => KEYS[k] === 'interface')
  for (const [key, value] of Object.entries(object)) {
    if (key === 'interfaces' && scope === 'top') continue
    if (scope === 'interface' && key in KEYS && KEYS[key as KeyName] === 'daemon') {
      throw new UsageError(`config ${file}: ${where}${key} applies to the whole daemon, not to one interface: move it to the top level`)
    }
    if (!allowed.includes(key)) {
      throw new UsageError(`config ${file}: unknown key '${where}${key}'${suggestion(key, allowed)}`)
    }
    values[key as KeyName] = value
  }
  return values
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function parseConfigText(file: string, text: string): ConfigFile {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`config ${file} is not valid JSON (${(err as Error).message}): fix the syntax, e.g. { "interfaces": { "eth0": {} } }`)
  }
  if (!isObject(parsed)) throw new UsageError(`config ${file} must hold a JSON object, e.g. { "interfaces": { "eth0": {} } }`)
  const global = readKeys(file, '', parsed, 'top')
  const interfaces = new Map<string, RawValues>()
  if (parsed.interfaces !== undefined) {
    if (!isObject(parsed.interfaces)) {
      throw new UsageError(`config ${file}: interfaces must be an object of interface name to settings, e.g. "interfaces": { "eth0": { "ia-na": 1 } }`)
    }
    for (const [ifname, section] of Object.entries(parsed.interfaces)) {
      if (!isObject(section)) {
        throw new UsageError(`config ${file}: interfaces.${ifname} must be an object of settings (use {} for the defaults)`)
      }
      interfaces.set(ifname, readKeys(file, `interfaces.${ifname}.`, section, 'interface'))
    }
  }
  return { path: file, global, interfaces }
}

export function readConfigFile(file: string): ConfigFile {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new UsageError(code === 'ENOENT'
      ? `config ${file} does not exist: check the path given to --config`
      : `config ${file} cannot be read (${code ?? (err as Error).message}): check its permissions`)
  }
  return parseConfigText(file, text)
}

// --- resolution ----------------------------------------------------------------------------

const FLAG_OF: Record<KeyName, keyof RunFlags> = {
  'profile': 'profile',
  'on-ra': 'onRa',
  'release-on-stop': 'releaseOnStop',
  'rapid-commit': 'rapidCommit',
  'reconfigure-accept': 'reconfigureAccept',
  'sol-max-delay': 'solMaxDelay',
  'ia-na': 'iaNa',
  'ia-pd': 'iaPd',
  'stateless': 'stateless',
  'hook': 'hook',
  'resolv-conf': 'resolvConf',
  'pd-downstream': 'pdDownstream',
  'ra-source': 'raSource',
  'state-dir': 'stateDir',
  'control-socket': 'controlSocket',
  'log-format': 'logFormat',
  'log-level': 'logLevel',
  'duid-type': 'duidType',
  'link-watch': 'linkWatch',
  'link-debounce': 'linkDebounce',
}

/** A raw value with where it came from, or undefined when neither the flags nor the file set it. */
type Sourced = { value: unknown; origin: Origin } | undefined

/**
 * Resolves the settings of `ra6dhcp run IF... [flags]`. The interfaces are those named on the
 * command line, or else every interface in the config file. Throws UsageError on the first bad
 * value.
 */
export function resolveSettings(argInterfaces: string[], flags: RunFlags, env: ConfigEnvironment = hostEnvironment): DaemonSettings {
  const config = flags.config === undefined ? undefined : readConfigFile(resolve(env.cwd, flags.config))
  const configDir = config ? dirname(config.path) : env.cwd

  const lookup = (key: KeyName, section?: RawValues, sectionName?: string): Sourced => {
    const flag = flags[FLAG_OF[key]]
    if (flag !== undefined) return { value: flag, origin: flagOrigin(key, env) }
    if (section && section[key] !== undefined) {
      return { value: section[key], origin: { label: `config ${config!.path}: interfaces.${sectionName}.${key}`, baseDir: configDir, fromFile: true } }
    }
    if (config && config.global[key] !== undefined) {
      return { value: config.global[key], origin: { label: `config ${config.path}: ${key}`, baseDir: configDir, fromFile: true } }
    }
    return undefined
  }

  const stateDirSource = lookup('state-dir')
  const stateDir = stateDirSource ? path(stateDirSource.origin, stateDirSource.value) : DEFAULT_STATE_DIR
  const socketSource = lookup('control-socket')
  const daemon = {
    raSource: pick(lookup('ra-source'), 'auto', (o, v) => choice(o, v, RA_SOURCES)),
    stateDir,
    controlSocket: socketSource ? controlSocket(socketSource.origin, socketSource.value) : DEFAULT_CONTROL_SOCKET,
    logFormat: pick<LogFormat>(lookup('log-format'), 'pretty', (o, v) => choice(o, v, LOG_FORMATS)),
    logLevel: pick<LogLevel>(lookup('log-level'), 'info', (o, v) => choice(o, v, LOG_LEVELS)),
    duid: pick<DuidSetting>(lookup('duid-type'), { type: 'llt' }, duid),
    linkWatch: pick(lookup('link-watch'), true, onOff),
    linkDebounceMs: pick(lookup('link-debounce'), 0, milliseconds),
  }

  const names = argInterfaces.length > 0 ? argInterfaces : [...(config?.interfaces.keys() ?? [])]
  if (names.length === 0) {
    throw new UsageError(config
      ? `no interface to run on: name one (ra6dhcp run eth0) or add it to config ${config.path} under "interfaces"`
      : 'no interface to run on: name one, e.g. `ra6dhcp run eth0` (list interfaces with `ip link`)')
  }
  const seen = new Set<string>()
  for (const name of names) {
    if (seen.has(name)) throw new UsageError(`interface '${name}' is named twice: name each interface once`)
    seen.add(name)
  }
  if (config) {
    for (const name of config.interfaces.keys()) {
      interfaceName(`config ${config.path}: interfaces.${name}: `, name, { ...env, interfaceExists: () => true })
    }
  }

  const interfaces = new Map<string, InterfaceSettings>()
  for (const name of names) {
    interfaceName('', name, env)
    const section = config?.interfaces.get(name)
    const get = (key: KeyName) => lookup(key, section, name)
    const settings: InterfaceSettings = {
      profile: pick(get('profile'), 'rfc8415', (o, v) => choice(o, v, PROFILE_NAMES)),
      onRa: pick<OnRaMode>(get('on-ra'), 'auto', (o, v) => choice(o, v, ON_RA_MODES)),
      releaseOnStop: pick(get('release-on-stop'), false, bool),
      rapidCommit: pick(get('rapid-commit'), false, bool),
      reconfigureAccept: pick(get('reconfigure-accept'), false, bool),
      solMaxDelay: pick(get('sol-max-delay'), 1, seconds),
      iaNa: 1,
      iaPd: { count: 0 },
      stateless: pick(get('stateless'), false, bool),
      resolvConf: '',
    }
    const iaNaSource = get('ia-na')
    const iaPdSource = get('ia-pd')
    if (iaNaSource) settings.iaNa = count(iaNaSource.origin, iaNaSource.value)
    if (iaPdSource) settings.iaPd = iaPd(iaPdSource.origin, iaPdSource.value)
    if (settings.stateless) {
      const asked = [iaNaSource && settings.iaNa > 0 ? iaNaSource : undefined, iaPdSource && settings.iaPd.count > 0 ? iaPdSource : undefined]
        .find(s => s !== undefined)
      if (asked) {
        throw new UsageError(`${asked.origin.label} asks for IAs but stateless is set for ${name}: stateless means Information-request only, so drop one of them`)
      }
      settings.iaNa = 0
      settings.iaPd = { count: 0 }
    } else if (settings.iaNa === 0 && settings.iaPd.count === 0) {
      throw new UsageError(`nothing to ask for on ${name}: ia-na and ia-pd are both 0: give --ia-na 1, --ia-pd 1 or --stateless`)
    }
    const hookSource = get('hook')
    if (hookSource) settings.hook = hookScript(hookSource.origin, hookSource.value)
    const downstreamSource = get('pd-downstream')
    if (downstreamSource) {
      const downstream = pdDownstream(downstreamSource.origin, downstreamSource.value, env)
      checkPdDownstream(downstreamSource.origin, downstream, name, names, settings)
      settings.pdDownstream = downstream
    }
    settings.resolvConf = resolvConfFor(name, get('resolv-conf'), stateDir, names.length, section !== undefined && section['resolv-conf'] !== undefined)
    interfaces.set(name, settings)
  }

  const settings: DaemonSettings = { ...daemon, interfaces }
  if (config) settings.configFile = config.path
  return settings
}

function pick<T>(source: Sourced, fallback: T, parse: (origin: Origin, value: unknown) => T): T {
  return source === undefined ? fallback : parse(source.origin, source.value)
}

function resolvConfFor(ifname: string, source: Sourced, stateDir: string, interfaceCount: number, perInterface: boolean): string {
  if (source === undefined) return defaultResolvFragmentPath(stateDir, ifname)
  const template = path(source.origin, source.value)
  if (interfaceCount > 1 && !perInterface && !template.includes(INTERFACE_TOKEN)) {
    throw new UsageError(`${source.origin.label} ${template} would be shared by every interface: put ${INTERFACE_TOKEN} in it (e.g. /run/ra6dhcp/${INTERFACE_TOKEN}.resolv.conf) or set resolv-conf per interface in the config`)
  }
  const fragment = template.split(INTERFACE_TOKEN).join(ifname)
  try {
    return checkFragmentPath(fragment)
  } catch (err) {
    throw new UsageError(`${source.origin.label}: ${(err as Error).message}`)
  }
}

// --- reload --------------------------------------------------------------------------------

export interface SettingsChange {
  /** Changed and applied to the running daemon. */
  applied: string[]
  /** Changed, but only a daemon restart applies them. */
  needsRestart: string[]
}

/** What differs between two resolutions, split into what SIGHUP can apply and what it cannot. */
export function diffSettings(before: DaemonSettings, after: DaemonSettings): SettingsChange {
  const applied: string[] = []
  const needsRestart: string[] = []
  const note = (key: string, a: unknown, b: unknown, where = '') => {
    if (JSON.stringify(a) === JSON.stringify(b)) return
    ;(RESTART_KEYS.includes(key) ? needsRestart : applied).push(`${where}${key}`)
  }
  note('ra-source', before.raSource, after.raSource)
  note('state-dir', before.stateDir, after.stateDir)
  note('control-socket', before.controlSocket, after.controlSocket)
  note('log-format', before.logFormat, after.logFormat)
  note('log-level', before.logLevel, after.logLevel)
  note('duid-type', before.duid, after.duid)
  note('link-watch', before.linkWatch, after.linkWatch)
  note('link-debounce', before.linkDebounceMs, after.linkDebounceMs)
  const beforeNames = [...before.interfaces.keys()]
  const afterNames = [...after.interfaces.keys()]
  if (JSON.stringify(beforeNames) !== JSON.stringify(afterNames)) {
    needsRestart.push(`interfaces (running on ${beforeNames.join(', ')}; the config now names ${afterNames.join(', ')})`)
  }
  for (const [name, a] of before.interfaces) {
    const b = after.interfaces.get(name)
    if (!b) continue
    note('profile', a.profile, b.profile, `${name}.`)
    note('on-ra', a.onRa, b.onRa, `${name}.`)
    note('release-on-stop', a.releaseOnStop, b.releaseOnStop, `${name}.`)
    note('rapid-commit', a.rapidCommit, b.rapidCommit, `${name}.`)
    note('reconfigure-accept', a.reconfigureAccept, b.reconfigureAccept, `${name}.`)
    note('sol-max-delay', a.solMaxDelay, b.solMaxDelay, `${name}.`)
    note('ia-na', a.iaNa, b.iaNa, `${name}.`)
    note('ia-pd', a.iaPd, b.iaPd, `${name}.`)
    note('stateless', a.stateless, b.stateless, `${name}.`)
    note('hook', a.hook, b.hook, `${name}.`)
    note('resolv-conf', a.resolvConf, b.resolvConf, `${name}.`)
    note('pd-downstream', a.pdDownstream, b.pdDownstream, `${name}.`)
  }
  return { applied, needsRestart }
}
