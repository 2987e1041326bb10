// The worker thread that hosts the local engines (dynalite and s3rver) for lib/local/engines.ts. They
// run on their own event loop, so the pipeline's CPU-bound steps (training baselines, parsing a
// partition) do not stall every DynamoDB and S3 request meanwhile, and the engines' own work (LevelDB
// writes of a million listeners' state, request parsing) uses the machine's other core.
//
// Plain JavaScript on purpose: a worker thread does not inherit the parent's TypeScript loader (tsx or
// vitest), and this module needs nothing but the two engines. Its protocol is typed in engines.ts:
// workerData EngineHostInput; the host posts { dynamoPort, s3Port } once both listen (or { error }),
// and answers the message 'stop' by closing both and posting 'stopped'.
import { parentPort, workerData } from 'node:worker_threads';

function listen(server, port) {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      done(server.address().port);
    });
  });
}

function closeServer(server) {
  return new Promise((done, fail) => server.close((error) => (error ? fail(error) : done())));
}

async function host(input) {
  if (parentPort === null) throw new Error('engine-host runs as a worker thread of lib/local/engines.ts');
  const [{ default: dynalite }, { default: S3rver }] = await Promise.all([import('dynalite'), import('s3rver')]);
  // No path: dynalite's in-memory store (engines.ts dynamoStore 'memory').
  const dynamoServer = dynalite({
    ...(input.dynamoDir ? { path: input.dynamoDir } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const dynamoPort = await listen(dynamoServer, input.dynamoPort);
  const s3rver = new S3rver({ port: input.s3Port, address: '127.0.0.1', directory: input.s3Dir, silent: true });
  let s3Port;
  try {
    s3Port = (await s3rver.run()).port;
  } catch (error) {
    await closeServer(dynamoServer);
    throw error;
  }
  // Keep idle connections open until the client closes them. The SDK clients pool keep-alive sockets
  // on the pipeline's main thread, which a CPU-bound step blocks for seconds: a server closing idle
  // sockets meanwhile (Node's default after 5 s) leaves the pool holding dead ones, and the next request
  // on one fails with "socket hang up". close() still ends idle connections (Node >= 19).
  //
  // And never answer 408: Node ends a request not fully received within requestTimeout (300 s; headers
  // within headersTimeout, 60 s) with "408 Request Timeout", which the SDK reports as "Unknown:
  // UnknownError". The 1M run's PublishServingState failed so, with the pipeline's main thread (the
  // client side) at 6 GB and the machine loaded. On loopback a slow request is only slow: no timer.
  for (const server of [dynamoServer, s3rver.httpServer]) {
    if (!server) continue;
    server.keepAliveTimeout = 0;
    server.requestTimeout = 0;
    server.headersTimeout = 0;
  }
  parentPort.on('message', (message) => {
    if (message !== 'stop') return;
    // Closing dynalite flushes its LevelDB store.
    Promise.all([closeServer(dynamoServer), s3rver.close()]).then(
      () => parentPort.postMessage('stopped'),
      (error) => parentPort.postMessage({ error: String(error?.stack ?? error) }),
    );
  });
  parentPort.postMessage({ dynamoPort, s3Port });
}

host(workerData).catch((error) => {
  parentPort?.postMessage({ error: String(error?.stack ?? error) });
});
