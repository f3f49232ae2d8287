#!/usr/bin/env node
// The HTTP floor: the least a node:http server can do for one request of the gateway's shape (read
// a JSON body, answer a small JSON body on a keep-alive connection), in a process of its own like
// the compiled gateway. Prints its port as one line on stdout; exits when stdin closes.
import { createServer } from 'node:http';

const ANSWER = JSON.stringify({ result: 'hello', is_error: false, session_created: false });

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    // Parsed like the gateway parses it, so the floor includes reading the request.
    if (chunks.length > 0) JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(ANSWER) });
    res.end(ANSWER);
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.stdin.on('end', () => server.close(() => process.exit(0))).resume();
