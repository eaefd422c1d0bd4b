/** Malformed DHCPv6 bytes. `offset` is the byte offset, in the decoded buffer, of the problem. */
export class DhcpDecodeError extends Error {
  override name = 'DhcpDecodeError'
  constructor(message: string, readonly offset: number) {
    super(message)
  }
}

/** A message model that cannot be put on the wire (value out of range, wrong byte length...). */
export class DhcpEncodeError extends Error {
  override name = 'DhcpEncodeError'
}
