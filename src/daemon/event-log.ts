// One log line per client event: every DHCPv6 message sent or received (type, xid, IAs, elapsed
// time, retransmission), every state change, note and failed system effect.
import type { ClientEvent, IaSummary } from '../client/machine/ports.js'

export interface LogLine {
  level: 'info' | 'warn' | 'error' | 'debug'
  message: string
  fields: Record<string, unknown>
}

/** "IA_NA 1 [2001:db8::1]" or "IA_PD 2 [2001:db8:1::/56] NoPrefixAvail". */
export function formatIas(ias: readonly IaSummary[]): string {
  return ias.map(ia => `${ia.kind === 'ia-na' ? 'IA_NA' : 'IA_PD'} ${ia.iaid} [${ia.values.join(' ')}]${ia.status ? ` ${ia.status}` : ''}`).join(', ')
}

/** The RFC's spelling of a message type: "solicit" -> "Solicit", "information-request" -> "Information-request". */
export function messageName(type: string): string {
  return type.charAt(0).toUpperCase() + type.slice(1)
}

function hexXid(xid: number | undefined): string | undefined {
  return xid === undefined ? undefined : `0x${xid.toString(16).padStart(6, '0')}`
}

export function formatClientEvent(event: ClientEvent): LogLine {
  switch (event.kind) {
    case 'sent':
      return {
        level: 'info',
        message: `sent ${messageName(event.type)}${event.retransmission ? ` (retransmission ${event.attempt - 1})` : ''}`,
        fields: {
          xid: hexXid(event.xid),
          ias: event.ias.length > 0 ? formatIas(event.ias) : undefined,
          elapsed: `${(event.elapsedCentiseconds / 100).toFixed(2)}s`,
          retransmission: event.retransmission,
          to: event.destination,
          bytes: event.bytes,
        },
      }
    case 'received':
      return {
        level: event.accepted ? 'info' : 'warn',
        message: event.accepted ? `received ${messageName(event.type)}` : `dropped ${messageName(event.type)}`,
        fields: {
          xid: hexXid(event.xid),
          ias: event.ias.length > 0 ? formatIas(event.ias) : undefined,
          status: event.status,
          from: event.source,
          reason: event.reason,
        },
      }
    case 'state':
      return { level: 'info', message: `${event.from} -> ${event.to}`, fields: { why: event.why } }
    case 'note':
      return { level: 'info', message: event.message, fields: {} }
    case 'effect-error':
      return { level: 'error', message: `${event.effect} failed: ${event.error}`, fields: { effect: event.effect } }
  }
}
