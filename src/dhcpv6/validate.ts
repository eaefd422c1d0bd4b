// Semantic checks, separate from parsing: RFC 8415 section 16 (message validation) and section 21
// (option rules). A well-formed message may still break them; the client decides what to drop.
import { Limits, type MessageTypeName } from './constants.js'
import { duidEquals, duidLength } from './duid.js'
import { findOption, findOptions } from './find.js'
import type { ClientServerMessage, Duid, Message, Option, OptionKind } from './model.js'
import { optionCode, optionName } from './options.js'

export type ViolationCode =
  | 'missing-client-id' | 'missing-server-id' | 'unexpected-server-id' | 'client-id-mismatch'
  | 'transaction-id-mismatch' | 'missing-elapsed-time' | 'ia-not-allowed' | 'missing-reconfigure-message'
  | 'invalid-reconfigure-message-type' | 'missing-authentication' | 'invalid-reconfigure-authentication'
  | 'missing-relay-message' | 'hop-count-exceeded' | 'duplicate-option' | 'duplicate-iaid'
  | 'misplaced-option' | 't1-greater-than-t2' | 'preferred-greater-than-valid' | 'invalid-prefix-length'
  | 'sol-max-rt-out-of-range' | 'inf-max-rt-out-of-range' | 'information-refresh-time-below-minimum'
  | 'duid-too-long' | 'domain-name-not-fully-qualified'

export interface Violation {
  code: ViolationCode
  /** What is wrong and the RFC rule, for people. */
  message: string
  /** Where: e.g. "options[2] IA_NA(iaid 1) > options[0] IA Address". Empty for the message itself. */
  path: string
  /** The option concerned, when there is one (for an IA, the IA option). */
  option?: Option
  /** The IAID of the IA concerned, when there is one. */
  iaid?: number
}

export interface ValidationContext {
  /** The message this one answers: its transaction id and Client Identifier are checked. */
  inReplyTo?: Message
  /** This client's DUID: the Client Identifier of a message sent to it must match. */
  clientDuid?: Duid
}

const clientMessages: ReadonlySet<string> = new Set<MessageTypeName>([
  'solicit', 'request', 'confirm', 'renew', 'rebind', 'release', 'decline', 'information-request',
])
const needServerId: ReadonlySet<string> = new Set<MessageTypeName>(['advertise', 'request', 'renew', 'decline', 'release', 'reply', 'reconfigure'])
const forbidServerId: ReadonlySet<string> = new Set<MessageTypeName>(['solicit', 'confirm', 'rebind'])
const needClientId: ReadonlySet<string> = new Set<MessageTypeName>(['solicit', 'advertise', 'request', 'confirm', 'renew', 'rebind', 'decline', 'release', 'reconfigure'])
/** Options that may appear more than once in one options area (RFC 8415 section 21.1). */
const repeatable: ReadonlySet<OptionKind> = new Set<OptionKind>(['ia-na', 'ia-ta', 'ia-pd', 'ia-address', 'ia-prefix', 'vendor-class', 'vendor-opts', 'unknown'])

/** Where an option may appear: the message types (top level) or the containing option kinds. */
const placement: Partial<Record<OptionKind, { messages?: MessageTypeName[]; inside?: OptionKind[] }>> = {
  'ia-address': { inside: ['ia-na', 'ia-ta'] },
  'ia-prefix': { inside: ['ia-pd'] },
  preference: { messages: ['advertise'] },
  'elapsed-time': { messages: [...clientMessages] as MessageTypeName[] },
  'relay-message': { messages: ['relay-forw', 'relay-repl'] },
  'interface-id': { messages: ['relay-forw', 'relay-repl'] },
  'rapid-commit': { messages: ['solicit', 'reply'] },
  'server-unicast': { messages: ['advertise', 'reply'] },
  'reconfigure-message': { messages: ['reconfigure'] },
  'status-code': { messages: ['advertise', 'reply'], inside: ['ia-na', 'ia-ta', 'ia-pd', 'ia-address', 'ia-prefix'] },
  'ia-na': { messages: ['solicit', 'advertise', 'request', 'confirm', 'renew', 'rebind', 'decline', 'release', 'reply'] },
  'ia-ta': { messages: ['solicit', 'advertise', 'request', 'confirm', 'renew', 'rebind', 'decline', 'release', 'reply'] },
  'ia-pd': { messages: ['solicit', 'advertise', 'request', 'renew', 'rebind', 'release', 'reply'] },
}

function isClientServer(m: Message): m is ClientServerMessage {
  return m.type !== 'unknown' && m.type !== 'relay-forw' && m.type !== 'relay-repl'
}

function label(o: Option): string {
  const code = optionCode(o)
  const iaid = 'iaid' in o ? `(iaid ${o.iaid})` : ''
  return `${optionName(code)}${iaid}`
}

class Checker {
  readonly violations: Violation[] = []
  add(code: ViolationCode, message: string, path: string, option?: Option, iaid?: number): void {
    const v: Violation = { code, message, path }
    if (option) v.option = option
    if (iaid !== undefined) v.iaid = iaid
    this.violations.push(v)
  }
}

function checkOptions(c: Checker, options: Option[], where: { message: MessageTypeName; parent?: Option; path: string; iaid?: number }): void {
  const seen = new Set<string>()
  const iaids = new Map<string, Set<number>>()
  options.forEach((o, i) => {
    const path = `${where.path ? `${where.path} > ` : ''}options[${i}] ${label(o)}`
    const iaid = 'iaid' in o ? o.iaid : where.iaid
    if (!repeatable.has(o.kind)) {
      if (seen.has(o.kind)) c.add('duplicate-option', `${optionName(optionCode(o))} appears more than once here (RFC 8415 section 21.1)`, path, o, iaid)
      seen.add(o.kind)
    }
    const place = placement[o.kind]
    if (place) {
      const allowed = where.parent
        ? (place.inside ?? []).includes(where.parent.kind)
        : (place.messages ?? []).includes(where.message)
      if (!allowed) {
        const context = where.parent ? `inside ${optionName(optionCode(where.parent))}` : `in a ${where.message} message`
        c.add('misplaced-option', `${optionName(optionCode(o))} is not allowed ${context}`, path, o, iaid)
      }
    }
    switch (o.kind) {
      case 'ia-na':
      case 'ia-ta':
      case 'ia-pd': {
        const ids = iaids.get(o.kind) ?? new Set<number>()
        if (ids.has(o.iaid)) c.add('duplicate-iaid', `two ${optionName(optionCode(o))} options with IAID ${o.iaid}`, path, o, o.iaid)
        ids.add(o.iaid)
        iaids.set(o.kind, ids)
        if (o.kind !== 'ia-ta' && o.t1 > o.t2 && o.t1 > 0 && o.t2 > 0) {
          c.add('t1-greater-than-t2', `T1 ${o.t1} is greater than T2 ${o.t2}: a client discards this IA (RFC 8415 section 21.${o.kind === 'ia-na' ? 4 : 21})`, path, o, o.iaid)
        }
        break
      }
      case 'ia-address':
      case 'ia-prefix':
        if (o.preferredLifetime > o.validLifetime) {
          c.add('preferred-greater-than-valid', `preferred lifetime ${o.preferredLifetime} is greater than valid lifetime ${o.validLifetime}: a client discards this ${o.kind === 'ia-address' ? 'address' : 'prefix'} (RFC 8415 section 21.${o.kind === 'ia-address' ? 6 : 22})`, path, o, iaid)
        }
        if (o.kind === 'ia-prefix' && o.prefixLength > 128) {
          c.add('invalid-prefix-length', `prefix length ${o.prefixLength} is above 128`, path, o, iaid)
        }
        break
      case 'client-id':
      case 'server-id':
        if (duidLength(o.duid) > Limits.duidMaxLength) {
          c.add('duid-too-long', `DUID is ${duidLength(o.duid)} bytes, at most ${Limits.duidMaxLength} (2-byte type + 128) are allowed (RFC 8415 section 11.1)`, path, o)
        }
        break
      case 'sol-max-rt':
        if (o.seconds < Limits.solMaxRtMin || o.seconds > Limits.solMaxRtMax) {
          c.add('sol-max-rt-out-of-range', `SOL_MAX_RT ${o.seconds} is outside ${Limits.solMaxRtMin}-${Limits.solMaxRtMax}: a client ignores it (RFC 8415 section 21.24)`, path, o)
        }
        break
      case 'inf-max-rt':
        if (o.seconds < Limits.infMaxRtMin || o.seconds > Limits.infMaxRtMax) {
          c.add('inf-max-rt-out-of-range', `INF_MAX_RT ${o.seconds} is outside ${Limits.infMaxRtMin}-${Limits.infMaxRtMax}: a client ignores it (RFC 8415 section 21.25)`, path, o)
        }
        break
      case 'information-refresh-time':
        if (o.seconds < Limits.irtMinimum) {
          c.add('information-refresh-time-below-minimum', `Information Refresh Time ${o.seconds} is below IRT_MINIMUM ${Limits.irtMinimum}: a client uses ${Limits.irtMinimum} (RFC 8415 section 21.23)`, path, o)
        }
        break
      case 'domain-list':
        for (const d of o.domains) {
          if (!d.endsWith('.') || d.endsWith('\\.')) c.add('domain-name-not-fully-qualified', `domain '${d}' does not end with the root label`, path, o)
        }
        break
      case 'relay-message':
        checkMessage(c, o.message, path, undefined)
        break
    }
    if ('options' in o) checkOptions(c, o.options, { message: where.message, parent: o, path, ...(iaid !== undefined ? { iaid } : {}) })
  })
}

function checkMessage(c: Checker, msg: Message, path: string, context: ValidationContext | undefined): void {
  const at = path
  if (!isClientServer(msg)) {
    if (msg.type === 'unknown') return
    const type = msg.type
    if (!findOption(msg.options, 'relay-message')) c.add('missing-relay-message', `${type} without a Relay Message option (RFC 8415 section 16.13)`, at)
    if (msg.hopCount > Limits.hopCountLimit) c.add('hop-count-exceeded', `hop-count ${msg.hopCount} is above HOP_COUNT_LIMIT ${Limits.hopCountLimit}`, at)
    checkOptions(c, msg.options, { message: type, path })
    return
  }
  const type = msg.type
  const clientId = findOption(msg.options, 'client-id')
  const serverId = findOption(msg.options, 'server-id')
  const asked = context?.inReplyTo
  if (needServerId.has(type) && !serverId) c.add('missing-server-id', `${type} without a Server Identifier option (RFC 8415 section 16)`, at)
  if (forbidServerId.has(type) && serverId) c.add('unexpected-server-id', `${type} must not carry a Server Identifier option (RFC 8415 section 16)`, at, serverId)
  const askedHadClientId = asked && asked.type !== 'unknown' ? findOption(asked.options, 'client-id') : undefined
  if (!clientId && (needClientId.has(type) || (type === 'reply' && (askedHadClientId || !asked)))) {
    c.add('missing-client-id', `${type} without a Client Identifier option (RFC 8415 section 16)`, at)
  }
  const ours = context?.clientDuid ?? askedHadClientId?.duid
  if (clientId && ours && !clientMessages.has(type) && !duidEquals(clientId.duid, ours)) {
    c.add('client-id-mismatch', `the Client Identifier does not match this client's DUID (RFC 8415 section 16.${type === 'advertise' ? 3 : 10})`, at, clientId)
  }
  if (asked && isClientServer(asked) && asked.transactionId !== msg.transactionId) {
    c.add('transaction-id-mismatch', `transaction-id 0x${msg.transactionId.toString(16)} does not match the 0x${asked.transactionId.toString(16)} sent`, at)
  }
  if (clientMessages.has(type) && !findOption(msg.options, 'elapsed-time')) {
    c.add('missing-elapsed-time', `${type} without an Elapsed Time option: a client MUST include it (RFC 8415 section 21.9)`, at)
  }
  if (type === 'information-request') {
    for (const ia of [...findOptions(msg.options, 'ia-na'), ...findOptions(msg.options, 'ia-ta'), ...findOptions(msg.options, 'ia-pd')]) {
      c.add('ia-not-allowed', `Information-request must not carry IA options (RFC 8415 section 16.12)`, at, ia, ia.iaid)
    }
  }
  if (type === 'reconfigure') {
    const reconf = findOption(msg.options, 'reconfigure-message')
    if (!reconf) c.add('missing-reconfigure-message', 'Reconfigure without a Reconfigure Message option (RFC 8415 section 16.11)', at)
    else if (![5, 6, 11].includes(reconf.msgType)) {
      c.add('invalid-reconfigure-message-type', `Reconfigure Message asks for message type ${reconf.msgType}; only 5 (Renew), 6 (Rebind) and 11 (Information-request) are allowed`, at, reconf)
    } else if (reconf.msgType === 11) {
      for (const ia of [...findOptions(msg.options, 'ia-na'), ...findOptions(msg.options, 'ia-ta'), ...findOptions(msg.options, 'ia-pd')]) {
        c.add('ia-not-allowed', 'a Reconfigure asking for Information-request must not carry IA options (RFC 8415 section 16.11)', at, ia, ia.iaid)
      }
    }
    const auth = findOption(msg.options, 'authentication')
    if (!auth) c.add('missing-authentication', 'Reconfigure without an Authentication option (RFC 8415 section 16.11)', at)
    else if (auth.protocol !== 3 || auth.algorithm !== 1 || auth.rdm !== 0 || auth.info.format !== 'rkap' || auth.info.type !== 2) {
      c.add('invalid-reconfigure-authentication', 'a Reconfigure must be authenticated with RKAP: protocol 3, algorithm 1 (HMAC-MD5), RDM 0, type 2 (HMAC-MD5 digest) (RFC 8415 section 20.4)', at, auth)
    }
  }
  checkOptions(c, msg.options, { message: type, path })
}

/** RFC 8415 section 16/21 violations of a decoded message; empty when it passes. */
export function validateMessage(msg: Message, context?: ValidationContext): Violation[] {
  const c = new Checker()
  checkMessage(c, msg, '', context)
  return c.violations
}
