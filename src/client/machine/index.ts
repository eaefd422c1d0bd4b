// One interface's DHCPv6 client state machine and the ports the daemon plugs into it.
export { ClientMachine, ON_RA_MODES, type ClientMachineOptions, type MachineEvent, type OnRaMode } from './machine.js'
export * from './ports.js'
export { buildMessage, requestedOptions, type IaInMessage, type MessageSettings, type OutgoingType } from './messages.js'
export { reconfigureDigest, signReconfigure, verifyReconfigure } from './rkap.js'
export { effectiveTimers, fromStoredLease, toStoredLease, type Lease, type LeaseEntry, type LeaseIa } from './lease.js'
