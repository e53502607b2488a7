import { describe, expect, it } from '@jest/globals';
import { currentRequestSignal, withRequestSignal } from '../../src/upstream/http/requestSignal.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('withRequestSignal', () => {
  it('carries the signal through awaits, keeps overlapping reads apart, and is off between reads', async () => {
    const a = new AbortController().signal;
    const b = new AbortController().signal;
    let releaseB!: () => void;
    const bHeld = new Promise<void>((resolve) => (releaseB = resolve));
    const seenInB: (AbortSignal | undefined)[] = [];
    const readB = withRequestSignal(b, async () => {
      await turn();
      seenInB.push(currentRequestSignal());
      await bHeld;
      // A finished meanwhile: the storage must still be on for B.
      seenInB.push(currentRequestSignal());
    });
    await withRequestSignal(a, async () => {
      await turn();
      expect(currentRequestSignal()).toBe(a);
    });
    releaseB();
    await readB;
    expect(seenInB).toEqual([b, b]);
    // No read running: nothing is carried (and the storage's promise hooks are off).
    expect(currentRequestSignal()).toBeUndefined();
    // A read that throws synchronously still counts down.
    await expect(
      withRequestSignal(a, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await withRequestSignal(b, async () => {
      await turn();
      expect(currentRequestSignal()).toBe(b);
    });
  });
});
