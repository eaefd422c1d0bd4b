// The daemon's end of the control socket: a unix stream socket, mode 0600 in a directory it
// creates (0700) if missing, one daemon per socket. A socket file left by a dead daemon is
// removed; a live daemon's socket is never touched (it is tested with a connect first).
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { dirname } from 'node:path'
import { MAX_REQUEST_BYTES, parseRequestLine, type ControlRequest, type ControlResponse } from './protocol.js'

export type ControlHandler = (request: ControlRequest) => Promise<ControlResponse>

/** Another daemon answers on the socket, or the path is not ours to take. */
export class SocketInUseError extends Error {
  override name = 'SocketInUseError'
}

/** True when something accepts connections on the unix socket at `path`. */
export function socketIsLive(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise(resolve => {
    const socket = createConnection({ path })
    const done = (live: boolean) => { clearTimeout(timer); socket.destroy(); resolve(live) }
    const timer = setTimeout(() => done(true), timeoutMs) // a hung daemon is still a daemon
    socket.on('connect', () => done(true))
    socket.on('error', () => done(false))
  })
}

export class ControlServer {
  private server: Server | undefined
  private readonly connections = new Set<Socket>()
  /** Inode of the socket file we created: close() unlinks only that file. */
  private inode: number | undefined

  constructor(readonly path: string, private readonly handler: ControlHandler, private readonly onError: (err: Error) => void = () => {}) {}

  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 })
    await this.removeStaleSocket()
    const server = createServer(socket => this.accept(socket))
    // The socket is created with the process umask: make it 0600 from the first instant.
    const umask = process.umask(0o177)
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(this.path, () => { server.off('error', reject); resolve() })
      })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EADDRINUSE') throw new SocketInUseError(`another ra6dhcp daemon answers on ${this.path}: stop it first, or give this one its own --control-socket PATH`)
      throw err
    } finally {
      process.umask(umask)
    }
    chmodSync(this.path, 0o600)
    this.inode = lstatSync(this.path).ino
    server.on('error', err => this.onError(err))
    this.server = server
  }

  private async removeStaleSocket(): Promise<void> {
    let stat
    try { stat = lstatSync(this.path) } catch { return }
    if (!stat.isSocket()) {
      throw new SocketInUseError(`${this.path} exists and is not a socket: remove it yourself or give --control-socket another path`)
    }
    if (await socketIsLive(this.path)) {
      throw new SocketInUseError(`another ra6dhcp daemon answers on ${this.path}: stop it first (ra6dhcp ctl stop does not end it; send it SIGTERM), or give this one its own --control-socket PATH`)
    }
    unlinkSync(this.path) // nobody listens: left by a daemon that died
  }

  private accept(socket: Socket): void {
    this.connections.add(socket)
    socket.setEncoding('utf8')
    let buffer = ''
    let queue = Promise.resolve()
    socket.on('data', (chunk: string) => {
      buffer += chunk
      let newline: number
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + 1)
        if (line.trim() === '') continue
        queue = queue.then(() => this.answer(socket, line))
      }
      if (Buffer.byteLength(buffer) > MAX_REQUEST_BYTES) {
        buffer = ''
        queue = queue.then(() => {
          this.reply(socket, { ok: false, error: `request longer than ${MAX_REQUEST_BYTES} bytes: send one line of JSON per request` })
          socket.end()
        })
      }
    })
    socket.on('error', () => { /* the peer went away; nothing to answer */ })
    socket.on('close', () => this.connections.delete(socket))
  }

  private async answer(socket: Socket, line: string): Promise<void> {
    let response: ControlResponse
    try {
      response = await this.handler(parseRequestLine(line))
    } catch (err) {
      response = { ok: false, error: err instanceof Error ? err.message : String(err) }
    }
    this.reply(socket, response)
  }

  private reply(socket: Socket, response: ControlResponse): void {
    if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(response)}\n`)
  }

  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    const closed = new Promise<void>(resolve => server.close(() => resolve()))
    for (const socket of this.connections) socket.destroy()
    await closed
    try {
      if (lstatSync(this.path).ino === this.inode) unlinkSync(this.path)
    } catch { /* already gone */ }
  }
}
