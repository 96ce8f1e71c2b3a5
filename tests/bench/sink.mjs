// A webhook receiver for benchmarks: answers 200 at once, counts what it got,
// and writes the count to the file named by its first argument every 200 ms
// (the port it listens on goes to stdout first).
import http from 'node:http';
import fs from 'node:fs';

const out = process.argv[2];
let count = 0;
const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    count++;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"ok":true}');
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
setInterval(() => fs.writeFileSync(out, `${count}\n`), 200);
process.on('SIGTERM', () => { fs.writeFileSync(out, `${count}\n`); process.exit(0); });
