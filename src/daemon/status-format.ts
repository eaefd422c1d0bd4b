// `ra6dhcp ctl status` for people: the daemon, then per interface its state, leases with the
// seconds left, DNS, the last RA and the non-zero counters.
import type { ControlResponse, DaemonStatus, InterfaceReport } from './protocol.js'

const INFINITE = 0xffffffff

function lifetime(seconds: number): string {
  if (seconds === INFINITE) return 'infinite'
  if (seconds < 120) return `${seconds}s`
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${String(s).padStart(2, '0')}s` : `${m}m${String(s).padStart(2, '0')}s`
}

/** Rows of columns, left-aligned, two spaces apart. */
function table(rows: string[][], indent: string): string[] {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length) })
  return rows.map(row => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd())
}

function formatInterface(report: InterfaceReport): string[] {
  const link = report.linkDown ? ' (link down by ifdown)' : report.link === 'down' ? ' (link down)' : ''
  const lines = [`${report.interface}: ${report.state}${link}  profile ${report.profile}  on-ra ${report.onRa}`]
  if (report.linkChangedAt) lines.push(`  link ${report.link} since ${report.linkChangedAt}`)
  if (report.serverDuid) lines.push(`  server DUID ${report.serverDuid}`)
  if (report.leases.length > 0) {
    const rows = [['IA', 'IAID', 'T1', 'T2', 'ADDRESS/PREFIX', 'PREFERRED LEFT', 'VALID LEFT']]
    for (const lease of report.leases) {
      const kind = lease.kind === 'ia-na' ? 'IA_NA' : 'IA_PD'
      if (lease.entries.length === 0) rows.push([kind, String(lease.iaid), String(lease.t1), String(lease.t2), '-', '-', '-'])
      for (const entry of lease.entries) {
        rows.push([kind, String(lease.iaid), String(lease.t1), String(lease.t2), entry.value,
          `${lifetime(entry.preferredLeft)} of ${lifetime(entry.preferredLifetime)}`, `${lifetime(entry.validLeft)} of ${lifetime(entry.validLifetime)}`])
      }
    }
    lines.push(...table(rows, '  '))
  } else {
    lines.push('  no lease')
  }
  const d = report.downstream
  if (d) {
    lines.push(`  downstream ${d.interface} ${d.address}/${d.prefixLength} (/64 number ${d.subnetIndex} of ${d.delegatedPrefix})  preferred ${lifetime(d.preferredLeft)} of ${lifetime(d.preferredLifetime)}  valid ${lifetime(d.validLeft)} of ${lifetime(d.validLifetime)}`)
  }
  if (report.dnsServers.length > 0) lines.push(`  DNS ${report.dnsServers.join(' ')}`)
  if (report.domainSearch.length > 0) lines.push(`  search ${report.domainSearch.join(' ')}`)
  lines.push(report.lastRa
    ? `  last RA ${report.lastRa.at} M=${report.lastRa.managed ? 1 : 0} O=${report.lastRa.other ? 1 : 0}${report.lastRa.router ? ` from ${report.lastRa.router}` : ''}${report.lastRa.replayed ? ' (replayed)' : ''}; ${report.raCount} RA(s) seen`
    : '  no RA seen yet')
  const counters = Object.entries(report.counters).filter(([, n]) => n !== 0).sort(([a], [b]) => a.localeCompare(b))
  if (counters.length > 0) lines.push(`  counters ${counters.map(([k, n]) => `${k}=${n}`).join(' ')}`)
  return lines
}

export function formatStatus(status: DaemonStatus): string {
  const lines = [
    `ra6dhcp ${status.version}, pid ${status.pid}, up ${lifetime(status.uptimeSeconds)}, RA source ${status.raSource ?? 'starting'}`,
    `control socket ${status.controlSocket}, state dir ${status.stateDir}${status.configFile ? `, config ${status.configFile}` : ''}`,
  ]
  for (const report of status.interfaces) lines.push('', ...formatInterface(report))
  return `${lines.join('\n')}\n`
}

/** A verb's answer for people: status as a table, other verbs one line per interface. */
export function formatResponse(response: ControlResponse): string {
  if (!response.ok) return `error: ${response.error}\n`
  if (response.verb === 'status') return formatStatus(response.status)
  return response.results.map(r => {
    const spec = r.spec
    const asked = spec
      ? ` (${spec.mode === 'stateless' ? 'inforeq' : [...spec.iaNa.map(i => `iana iaid=${i}`), ...spec.iaPd.map(p => `prefix iaid=${p.iaid}${p.prefixLength ? ` len=${p.prefixLength}` : ''}`)].join(' ')}${spec.dns ? ' dns' : ''})`
      : ''
    return `${r.interface}: ${response.verb}${asked} -> ${r.state}\n`
  }).join('')
}
