import { UsageError } from '../cli/usage-error.js'

/**
 * Interface names become parts of file names: accept only what Linux allows in a name that is
 * also safe in a path (no '/', no whitespace, not '.' or '..', at most IFNAMSIZ-1 = 15 bytes).
 */
export function checkInterfaceName(name: string): string {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(name) || name === '.' || name === '..') {
    throw new UsageError(`'${name}' is not a usable interface name: give the name shown by 'ip link' (at most 15 characters, no '/' or spaces)`)
  }
  return name
}
