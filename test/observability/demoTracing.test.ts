import { afterAll, describe, expect, it } from '@jest/globals';
import { cleanUpCli, startListening } from '../support/cliProcess.js';
import { startOtlpReceiver, type OtlpReceiver } from './otlpReceiver.js';

let receiver: OtlpReceiver | undefined;
afterAll(async () => {
  await cleanUpCli();
  await receiver?.close();
});

describe('demo with OTEL_* variables', () => {
  it('exports its traces to the collector the standard variables name', async () => {
    receiver = await startOtlpReceiver();
    const demo = await startListening(['demo', '--port', '0', '--still'], {
      LOG_LEVEL: 'warn',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'veeam-graph-demo',
    });
    const res = await fetch(`${demo.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query Demo { restoreSessions(first: 3) { nodes { name } } }' }),
    });
    expect(res.status).toBe(200);
    // A graceful stop flushes what the batch processor holds.
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    const op = receiver.spans.find((s) => s.name === 'graphql.operation Demo');
    expect(op?.resource['service.name']).toBe('veeam-graph-demo');
    expect(receiver.spans.filter((s) => s.parentSpanId === op!.spanId).length).toBeGreaterThan(0);
  });
});
