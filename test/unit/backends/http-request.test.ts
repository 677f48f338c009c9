// postStream and getText against a loopback server that closes a kept-alive connection as it is
// reused, as llama-server does after a streamed answer (it says `Keep-Alive`, then closes): the
// next request must not fail with ECONNRESET.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConnectError, getText, postStream } from '../../../src/backends/http-request';

describe('postStream and getText', () => {
  /** Per connection: how many requests it has seen. The second on one connection is reset. */
  const connections: number[] = [];
  const server = net.createServer((socket) => {
    const index = connections.push(0) - 1;
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(pending.slice(0, end))?.[1] ?? 0);
      if (pending.length < end + 4 + length) return;
      pending = '';
      if (++connections[index]! > 1) {
        socket.resetAndDestroy();
        return;
      }
      const body = '{"ok":true}';
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
          `Connection: keep-alive\r\nKeep-Alive: timeout=5, max=100\r\n\r\n${body}`,
      );
    });
  });
  let url = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/infill`;
  });
  after(() => server.close());

  it('sends again on a new connection when a kept-alive one is reset as it is reused', async () => {
    const signal = new AbortController().signal;
    const first = await postStream(url, { n: 1 }, {}, signal);
    assert.equal(await first.text(), '{"ok":true}');
    const second = await postStream(url, { n: 2 }, {}, signal);
    assert.equal(second.status, 200);
    assert.equal(await second.text(), '{"ok":true}');
    // The first connection answered one and was reset on the second; a new one answered it.
    assert.deepEqual(connections, [2, 1]);
  });

  it('a GET after a streamed POST on the same connection: sent again, read whole', async () => {
    const resets = () => connections.filter((n) => n > 1).length;
    const before = resets();
    const signal = new AbortController().signal;
    await (await postStream(url, { n: 1 }, {}, signal)).text();
    assert.deepEqual(await getText(url, {}, signal), { status: 200, text: '{"ok":true}' });
    assert.ok(resets() > before, 'the GET went out on the kept-alive connection, was reset, and was sent again');
  });

  it('a GET answer larger than the limit is an error, not a buffer that grows without end', async () => {
    const signal = new AbortController().signal;
    await assert.rejects(getText(url, {}, signal, 4), /the answer is larger than 4 bytes/);
    assert.equal((await getText(url, {}, signal, 11)).text, '{"ok":true}');
  });

  it('a refused connection is not sent again: it fails with its code', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    await assert.rejects(postStream(`http://127.0.0.1:${port}/`, {}, {}, new AbortController().signal), (err) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, 'ECONNREFUSED');
      assert.equal(err.reusedSocket, false);
      return true;
    });
  });
});
