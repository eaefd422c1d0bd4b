import { UsageError } from './usage-error.js'

/** Reads all of stdin as text; a terminal on stdin means nothing was piped, which `missing` explains. */
export async function readStdinText(missing: string): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError(missing)
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
