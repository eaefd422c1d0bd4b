// How `ra6dhcp monitor` shows an RaEvent: radvdump-like text (radvd.conf syntax, so lab engineers
// can compare it with the router's config) or one JSON object per line.
import { INFINITE_LIFETIME, type NdOption, type RaEvent } from './events.js'

const onOff = (b: boolean) => (b ? 'on' : 'off')
const lifetime = (seconds: number) => (seconds === INFINITE_LIFETIME ? 'infinity' : String(seconds))

function optionLines(option: NdOption): string[] {
  switch (option.kind) {
    case 'sourceLinkLayerAddress':
      return [`\t# source link-layer address ${option.address}`]
    case 'mtu':
      return [`\tAdvLinkMTU ${option.mtu};`]
    case 'prefixInformation':
      return [
        `\tprefix ${option.prefix}/${option.prefixLength}`, '\t{',
        `\t\tAdvValidLifetime ${lifetime(option.validLifetime)};`,
        `\t\tAdvPreferredLifetime ${lifetime(option.preferredLifetime)};`,
        `\t\tAdvOnLink ${onOff(option.onLink)};`,
        `\t\tAdvAutonomous ${onOff(option.autonomous)};`,
        `\t\tAdvRouterAddr ${onOff(option.routerAddress)};`,
        '\t}; # End of prefix definition',
      ]
    case 'routeInformation':
      return [
        `\troute ${option.prefix}/${option.prefixLength}`, '\t{',
        `\t\tAdvRoutePreference ${option.preference};`,
        `\t\tAdvRouteLifetime ${lifetime(option.routeLifetime)};`,
        '\t}; # End of route definition',
      ]
    case 'rdnss':
      return [`\tRDNSS ${option.servers.join(' ')}`, '\t{', `\t\tAdvRDNSSLifetime ${lifetime(option.lifetime)};`, '\t}; # End of RDNSS definition']
    case 'dnssl':
      return [`\tDNSSL ${option.domains.join(' ')}`, '\t{', `\t\tAdvDNSSLLifetime ${lifetime(option.lifetime)};`, '\t}; # End of DNSSL definition']
    case 'raw':
      return [`\t# option type ${option.type}, ${option.data.length + 2} bytes: ${option.data.toString('hex')}`]
    case 'invalid':
      return [`\t# INVALID option type ${option.type} (${option.reason}): ${option.data.toString('hex')}`]
  }
}

/** A block in radvd.conf syntax; lines the source cannot know (rtnetlink) are left out and said so. */
export function formatRaText(event: RaEvent, receivedAt: Date = new Date()): string {
  const origin = [
    `# ${receivedAt.toISOString()} accepted RA on ${event.ifname} (ifindex ${event.ifindex})`,
    event.router ? ` from ${event.router}` : '',
    event.destination ? ` to ${event.destination}` : '',
    ` via ${event.source}`,
    event.replayed ? ', replayed (received before the monitor started)' : '',
    event.seq !== undefined ? `, seq ${event.seq}` : '',
  ].join('')
  const lines = [origin, `interface ${event.ifname}`, '{']
  lines.push(`\tAdvManagedFlag ${onOff(event.flags.managed)};`, `\tAdvOtherConfigFlag ${onOff(event.flags.other)};`)
  if (event.flags.homeAgent !== undefined) lines.push(`\tAdvHomeAgentFlag ${onOff(event.flags.homeAgent)};`)
  if (event.flags.preference !== undefined) lines.push(`\tAdvDefaultPreference ${event.flags.preference};`)
  if (event.flags.proxy !== undefined) lines.push(`\t# proxy (P) flag ${onOff(event.flags.proxy)}`)
  if (event.curHopLimit !== undefined) lines.push(`\tAdvCurHopLimit ${event.curHopLimit};`)
  if (event.routerLifetime !== undefined) lines.push(`\tAdvDefaultLifetime ${event.routerLifetime};`)
  if (event.reachableTime !== undefined) lines.push(`\tAdvReachableTime ${event.reachableTime};`)
  if (event.retransTimer !== undefined) lines.push(`\tAdvRetransTimer ${event.retransTimer};`)
  if (event.source === 'rtnetlink') {
    lines.push('\t# rtnetlink: hop limit, lifetimes, timers, H/Prf/P flags and non-user options are not reported')
  }
  for (const option of event.options) lines.push(...optionLines(option))
  lines.push('}; # End of interface definition')
  return lines.join('\n') + '\n'
}

/** A JSON-safe copy: bigint as decimal strings, option bytes as hex. */
export function raEventToJson(event: RaEvent): Record<string, unknown> {
  return JSON.parse(JSON.stringify(event, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString()
    if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
      return Buffer.from((value as { data: number[] }).data).toString('hex')
    }
    return value
  })) as Record<string, unknown>
}
