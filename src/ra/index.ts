// Public surface of the RA sources.
export { RaMonitor, RTNETLINK_FALLBACK_WARNING, type RaMonitorOptions, type RaMonitorStats, type RaSourceChoice } from './monitor.js'
export type * from './events.js'
export { INFINITE_LIFETIME } from './events.js'
export { RaSourceError, MODULE_NOT_LOADED, NEEDS_CAP_NET_ADMIN } from './errors.js'
export { monotonicNs } from './native.js'
export { formatRaText, raEventToJson } from './format.js'
