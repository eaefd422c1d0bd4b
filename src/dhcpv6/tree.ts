// The readable tree `ra6dhcp decode` prints: one line per message or option, nested by indent.
import { toHex } from './bytes.js'
import { MessageType, optionKindByCode, statusNameByCode } from './constants.js'
import { describeDuid } from './duid.js'
import { formatIpv6 } from './ipv6.js'
import type { Message, Option } from './model.js'
import { optionCode, optionName } from './options.js'

const messageNames: Record<string, string> = {
  solicit: 'Solicit', advertise: 'Advertise', request: 'Request', confirm: 'Confirm', renew: 'Renew',
  rebind: 'Rebind', reply: 'Reply', release: 'Release', decline: 'Decline', reconfigure: 'Reconfigure',
  'information-request': 'Information-request', 'relay-forw': 'Relay-forward', 'relay-repl': 'Relay-reply',
}

const hex24 = (n: number) => `0x${n.toString(16).padStart(6, '0')}`

function optionSummary(o: Option): string {
  switch (o.kind) {
    case 'client-id':
    case 'server-id': return describeDuid(o.duid)
    case 'ia-na':
    case 'ia-pd': return `IAID ${o.iaid} (0x${o.iaid.toString(16).padStart(8, '0')}) T1 ${o.t1} T2 ${o.t2}`
    case 'ia-ta': return `IAID ${o.iaid} (0x${o.iaid.toString(16).padStart(8, '0')})`
    case 'ia-address': return `${formatIpv6(o.address)} preferred ${o.preferredLifetime} valid ${o.validLifetime}`
    case 'ia-prefix': return `${formatIpv6(o.prefix)}/${o.prefixLength} preferred ${o.preferredLifetime} valid ${o.validLifetime}`
    case 'oro': return o.codes.map(c => `${c} (${optionName(c)})`).join(', ') || '(empty)'
    case 'preference': return String(o.value)
    case 'elapsed-time': return `${o.hundredths} (${(o.hundredths / 100).toFixed(2)} s)`
    case 'relay-message': return ''
    case 'authentication': {
      const info = o.info.format === 'rkap'
        ? `RKAP type ${o.info.type} (${o.info.type === 1 ? 'reconfigure key' : o.info.type === 2 ? 'HMAC-MD5 digest' : 'unknown'}) value ${toHex(o.info.value)}`
        : `info ${toHex(o.info.data) || '(empty)'}`
      return `protocol ${o.protocol} algorithm ${o.algorithm} RDM ${o.rdm} replay ${o.replayDetection} ${info}`
    }
    case 'server-unicast': return formatIpv6(o.address)
    case 'status-code': return `${o.status} (${statusNameByCode.get(o.status) ?? 'unknown'}) ${JSON.stringify(o.message)}`
    case 'rapid-commit':
    case 'reconfigure-accept': return ''
    case 'user-class': return o.classes.map(toHex).join(', ')
    case 'vendor-class': return `enterprise ${o.enterpriseNumber} data ${o.data.map(toHex).join(', ')}`
    case 'vendor-opts': return `enterprise ${o.enterpriseNumber} ${o.suboptions.map(s => `[${s.code}] ${toHex(s.data)}`).join(', ')}`
    case 'interface-id': return toHex(o.data)
    case 'reconfigure-message': {
      const name = [...Object.entries(MessageType)].find(([, c]) => c === o.msgType)?.[0]
      return `${o.msgType}${name ? ` (${name})` : ''}`
    }
    case 'dns-servers':
    case 'sntp-servers': return o.servers.map(formatIpv6).join(', ')
    case 'domain-list': return o.domains.join(', ')
    case 'information-refresh-time':
    case 'sol-max-rt':
    case 'inf-max-rt': return `${o.seconds} s`
    case 'fqdn': {
      const flags = ['S', 'O', 'N'].filter((_, i) => o.flags & (1 << i)).join('')
      return `flags 0x${o.flags.toString(16).padStart(2, '0')}${flags ? ` (${flags})` : ''} name ${JSON.stringify(o.name)}`
    }
    case 'ntp-server': return o.suboptions.map(s => {
      switch (s.type) {
        case 'server-address': return `server ${formatIpv6(s.address)}`
        case 'multicast-address': return `multicast ${formatIpv6(s.address)}`
        case 'fqdn': return `fqdn ${s.name}`
        case 'unknown': return `[${s.code}] ${toHex(s.data)}`
      }
    }).join(', ')
    case 'unknown': return toHex(o.data) || '(empty)'
  }
}

function optionLines(o: Option, indent: string, lines: string[]): void {
  const code = optionCode(o)
  const kind = optionKindByCode.get(code)
  const summary = optionSummary(o)
  lines.push(`${indent}${optionName(code)} (${code})${kind ? '' : ' unknown'}${summary ? `: ${summary}` : ''}`)
  if (o.kind === 'relay-message') messageLines(o.message, indent + '  ', lines)
  else if ('options' in o) for (const inner of o.options) optionLines(inner, indent + '  ', lines)
}

function messageLines(msg: Message, indent: string, lines: string[]): void {
  switch (msg.type) {
    case 'unknown':
      lines.push(`${indent}message type ${msg.msgType} (unknown): ${toHex(msg.body)}`)
      return
    case 'relay-forw':
    case 'relay-repl':
      lines.push(`${indent}${messageNames[msg.type]} (${MessageType[msg.type]}) hop-count ${msg.hopCount} link-address ${formatIpv6(msg.linkAddress)} peer-address ${formatIpv6(msg.peerAddress)}`)
      break
    default:
      lines.push(`${indent}${messageNames[msg.type]} (${MessageType[msg.type]}) transaction-id ${hex24(msg.transactionId)}`)
  }
  for (const o of msg.options) optionLines(o, indent + '  ', lines)
}

/** The readable tree of a message, one line per message or option. */
export function messageTree(msg: Message, indent = ''): string[] {
  const lines: string[] = []
  messageLines(msg, indent, lines)
  return lines
}
