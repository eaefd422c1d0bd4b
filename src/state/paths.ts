// Where the daemon keeps its files unless told otherwise (--state-dir, --resolv-conf).
import { join } from 'node:path'
import { checkInterfaceName } from './interface-name.js'

/** Leases, DUID, IAIDs: must survive reboots (FHS: /var/lib). */
export const DEFAULT_STATE_DIR = '/var/lib/ra6dhcp'

export interface StatePaths {
  stateDir: string
  lease(ifname: string): string
  duid: string
  iaids: string
  /** Default resolv.conf fragment of an interface (never /etc/resolv.conf). */
  resolvFragment(ifname: string): string
}

export function statePaths(stateDir = DEFAULT_STATE_DIR): StatePaths {
  return {
    stateDir,
    lease: ifname => join(stateDir, `${checkInterfaceName(ifname)}.lease.json`),
    duid: join(stateDir, 'duid.json'),
    iaids: join(stateDir, 'iaids.json'),
    resolvFragment: ifname => join(stateDir, `${checkInterfaceName(ifname)}.resolv.conf`),
  }
}
