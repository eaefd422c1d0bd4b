// Typed option lookup: findOption(msg.options, 'ia-na') is an IaNaOption | undefined, no casts.
import type { Option, OptionKind, OptionOf } from './model.js'

export function findOption<K extends OptionKind>(options: readonly Option[], kind: K): OptionOf<K> | undefined {
  for (const o of options) if (o.kind === kind) return o as OptionOf<K>
  return undefined
}

export function findOptions<K extends OptionKind>(options: readonly Option[], kind: K): OptionOf<K>[] {
  const found: OptionOf<K>[] = []
  for (const o of options) if (o.kind === kind) found.push(o as OptionOf<K>)
  return found
}

/** Options of a code we do not decode (kind 'unknown'), by wire code. */
export function findUnknownOptions(options: readonly Option[], code: number): OptionOf<'unknown'>[] {
  return options.filter((o): o is OptionOf<'unknown'> => o.kind === 'unknown' && o.code === code)
}
