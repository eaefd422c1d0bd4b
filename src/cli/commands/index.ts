// Every subcommand registers itself on the program; add new ones to this list.
import type { Command } from 'commander'
import { register as decode } from './decode.js'
import { register as encode } from './encode.js'
import { register as monitor } from './monitor.js'
import { register as run } from './run.js'
import { register as ctl } from './ctl.js'

export type RegisterCommand = (program: Command) => void

export const commands: RegisterCommand[] = [decode, encode, monitor, run, ctl]
