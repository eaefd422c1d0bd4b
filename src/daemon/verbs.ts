// The control verbs (the IPv6 Ready Logo remote verbs plus status) as words, turned into a
// command the daemon applies. Pure: the daemon passes what it knows (its interfaces, the default
// StartSpec and persisted IAIDs of each), so every rule is unit-tested without a daemon.
//
//   start [IF] [iana [iaid=N] | inforeq | prefix [iaid=N] [len=L]]... [dns]
//   stop [IF] | restart [IF] | release [IF] | ifdown [IF] | ifup [IF] | status [IF] [--json]
import { UsageError } from '../cli/usage-error.js'
import type { StartSpec } from '../client/api.js'

export const VERBS = ['start', 'stop', 'restart', 'release', 'ifdown', 'ifup', 'status'] as const
export type Verb = (typeof VERBS)[number]

const START_WORDS = ['iana', 'inforeq', 'prefix', 'dns']

export const START_GRAMMAR = 'start [IF] [iana [iaid=N] | inforeq | prefix [iaid=N] [len=L]]... [dns]'

export interface ControlCommand {
  verb: Verb
  /** The interfaces the verb applies to (all the daemon's when none was named). */
  interfaces: string[]
  /** For start: the spec per interface. */
  start?: Map<string, StartSpec>
}

export interface VerbContext {
  /** The interfaces the daemon runs on, in order. */
  interfaces: readonly string[]
  /** What a bare `start` asks for on this interface (from the config), IAIDs included. */
  defaultSpec(ifname: string): StartSpec
  /** The interface's persisted IAIDs, in order: `iana`/`prefix` without iaid= take the next one. */
  persistedIaids(ifname: string): { na: readonly number[]; pd: readonly number[] }
}

/** An IA asked for by the verb; the IAID is filled from the persisted ones when not given. */
interface AskedIa { iaid?: number; prefixLength?: number }

interface StartWords {
  iaNa: AskedIa[]
  iaPd: AskedIa[]
  inforeq: boolean
  dns: boolean
}

function parseUint(word: string, key: string, max: number, example: string): number {
  const text = word.slice(key.length + 1)
  const n = Number(text)
  if (!/^\d+$/.test(text) || n > max) {
    throw new UsageError(`'${word}': ${key} must be a whole number from 0 to ${max}, e.g. ${example}`)
  }
  return n
}

function parseStartWords(words: string[]): StartWords {
  const parsed: StartWords = { iaNa: [], iaPd: [], inforeq: false, dns: false }
  // iaid= and len= qualify the iana/prefix just before them.
  let current: { kind: 'iana' | 'prefix'; ia: AskedIa } | undefined
  for (const word of words) {
    if (word === 'iana') {
      current = { kind: 'iana', ia: {} }
      parsed.iaNa.push(current.ia)
    } else if (word === 'prefix') {
      current = { kind: 'prefix', ia: {} }
      parsed.iaPd.push(current.ia)
    } else if (word === 'inforeq') {
      parsed.inforeq = true
      current = undefined
    } else if (word === 'dns') {
      parsed.dns = true
      current = undefined
    } else if (word.startsWith('iaid=')) {
      if (!current) throw new UsageError(`'${word}' must follow iana or prefix, e.g. start iana ${word}`)
      if (current.ia.iaid !== undefined) throw new UsageError(`'${word}': this ${current.kind} already has iaid=${current.ia.iaid}: give each IA one iaid`)
      current.ia.iaid = parseUint(word, 'iaid', 0xffffffff, 'iaid=1')
    } else if (word.startsWith('len=')) {
      if (current?.kind !== 'prefix') throw new UsageError(`'${word}' is a prefix-length hint: it must follow prefix, e.g. start prefix ${word}`)
      const length = parseUint(word, 'len', 128, 'len=56')
      if (length < 1) throw new UsageError(`'${word}': len must be from 1 to 128, e.g. len=56`)
      current.ia.prefixLength = length
    } else {
      throw new UsageError(`unknown word '${word}' in start: expected iana, inforeq, prefix, iaid=N, len=L or dns (${START_GRAMMAR})`)
    }
  }
  if (parsed.inforeq && (parsed.iaNa.length > 0 || parsed.iaPd.length > 0)) {
    throw new UsageError('inforeq asks for no addresses: use it alone (start inforeq dns), or ask for iana/prefix without it')
  }
  return parsed
}

function fillIaids(ifname: string, asked: AskedIa[], persisted: readonly number[], word: 'iana' | 'prefix'): AskedIa[] {
  const explicit = new Set<number>()
  for (const ia of asked) {
    if (ia.iaid === undefined) continue
    if (explicit.has(ia.iaid)) throw new UsageError(`iaid=${ia.iaid} is given to two ${word} IAs: give each a different iaid`)
    explicit.add(ia.iaid)
  }
  const free = persisted.filter(iaid => !explicit.has(iaid))
  return asked.map((ia, index) => {
    if (ia.iaid !== undefined) return ia
    const iaid = free.shift()
    if (iaid === undefined) {
      throw new UsageError(`${word} number ${index + 1} on ${ifname} has no persisted IAID: give it one, e.g. ${word} iaid=${index + 1} (or raise ${word === 'iana' ? 'ia-na' : 'ia-pd'} in the config)`)
    }
    return { ...ia, iaid }
  })
}

/** The StartSpec for one interface from the words after `start` (without the interface). */
export function startSpecFromWords(words: string[], ifname: string, context: VerbContext): StartSpec {
  const parsed = parseStartWords(words)
  const defaults = context.defaultSpec(ifname)
  if (parsed.inforeq) return { mode: 'stateless', iaNa: [], iaPd: [], dns: parsed.dns }
  if (parsed.iaNa.length === 0 && parsed.iaPd.length === 0) {
    // A bare `start` (or `start dns`) does what the config says.
    return { ...defaults, iaNa: [...defaults.iaNa], iaPd: defaults.iaPd.map(pd => ({ ...pd })), dns: defaults.dns || parsed.dns }
  }
  const persisted = context.persistedIaids(ifname)
  const iaNa = fillIaids(ifname, parsed.iaNa, persisted.na, 'iana').map(ia => ia.iaid!)
  const iaPd = fillIaids(ifname, parsed.iaPd, persisted.pd, 'prefix').map(ia => {
    const pd: StartSpec['iaPd'][number] = { iaid: ia.iaid! }
    if (ia.prefixLength !== undefined) pd.prefixLength = ia.prefixLength
    return pd
  })
  return { mode: 'stateful', iaNa, iaPd, dns: parsed.dns }
}

/**
 * Parses one control request's words (`["start", "eth0", "iana", "iaid=1", "dns"]`). The
 * interface may be the first word after the verb or `requestedInterface` (ctl --interface); a verb
 * without one applies to every interface of the daemon.
 */
export function parseControlArgv(argv: readonly string[], context: VerbContext, requestedInterface?: string): ControlCommand {
  const [verbWord, ...rest] = argv
  if (verbWord === undefined) throw new UsageError(`no verb: give one of ${VERBS.join(', ')}`)
  if (!(VERBS as readonly string[]).includes(verbWord)) {
    throw new UsageError(`unknown verb '${verbWord}': use one of ${VERBS.join(', ')}`)
  }
  const verb = verbWord as Verb
  const managed = context.interfaces
  const checkManaged = (name: string) => {
    if (!managed.includes(name)) {
      throw new UsageError(`interface '${name}' is not run by this daemon (it runs on ${managed.join(', ')}): name one of those, or start the daemon on it`)
    }
  }
  let words = rest
  let named: string | undefined
  const first = words[0]
  if (first !== undefined && managed.includes(first)) {
    named = first
    words = words.slice(1)
  }
  if (requestedInterface !== undefined) {
    checkManaged(requestedInterface)
    if (named !== undefined && named !== requestedInterface) {
      throw new UsageError(`two interfaces given (--interface ${requestedInterface} and '${named}'): give one`)
    }
    named = requestedInterface
  }
  if (verb === 'status') words = words.filter(w => w !== '--json')
  if (verb !== 'start' && words.length > 0) {
    const word = words[0]!
    if (words.length === 1 && /^[A-Za-z0-9_.:@-]{1,15}$/.test(word) && !START_WORDS.includes(word)) checkManaged(word)
    throw new UsageError(`'${verb}' takes only an interface name (got '${words.join(' ')}'): e.g. ${verb}${managed[0] ? ` ${managed[0]}` : ''}`)
  }
  const interfaces = named !== undefined ? [named] : [...managed]
  const command: ControlCommand = { verb, interfaces }
  if (verb === 'start') {
    const firstWord = words[0]
    if (firstWord !== undefined && !START_WORDS.includes(firstWord) && !firstWord.includes('=')) {
      throw new UsageError(`'${firstWord}' is neither a start word (iana, inforeq, prefix, iaid=N, len=L, dns) nor an interface of this daemon (${managed.join(', ')}): ${START_GRAMMAR}`)
    }
    command.start = new Map(interfaces.map(name => [name, startSpecFromWords(words, name, context)]))
  }
  return command
}

/** Splits a plain-text request line ("start iana iaid=1") into words. */
export function splitWords(line: string): string[] {
  return line.trim().split(/\s+/).filter(w => w.length > 0)
}
