import { connect, type Socket } from 'node:net';

export interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves with the ms from open to close once the server (or anything) closes the socket. */
  closed: Promise<number>;
}

/** Opens a TCP connection to `url`'s host and port and writes `head` (and whatever else the test writes later). */
export async function openRaw(url: string, head: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  const chunks: Buffer[] = [];
  const opened = Date.now();
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  // A reset is one way of being closed; the test only cares that it happened.
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  if (head !== '') socket.write(head);
  return { socket, received: () => Buffer.concat(chunks).toString('latin1'), closed };
}

/** Request line and headers for a POST whose body is announced but (by the caller) never completed. */
export function unfinishedPost(path: string, headers: Record<string, string> = {}, declaredBytes = 1_000_000): string {
  const lines = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', `Content-Length: ${declaredBytes}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n{"tool":`;
}
