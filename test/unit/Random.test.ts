import { describe, expect, it } from '@jest/globals';
import { Random } from '../../src/sim/Random.js';
import { generateEmWorld, generateVboWorld, insertSorted } from '../../src/sim/world/generateWorld.js';

describe('Random', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random(43);
    const seqA = Array.from({ length: 5 }, () => a.uint32());
    expect(Array.from({ length: 5 }, () => b.uint32())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.uint32())).not.toEqual(seqA);
  });

  it('makes GUIDs of the Veeam form', () => {
    const r = new Random('guid');
    for (let i = 0; i < 100; i++) expect(r.guid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('world generator', () => {
  it('gives the same world for the same seed, another for another seed', () => {
    const a = generateEmWorld('em-1', { seed: 7, sessionsPerServer: 200 });
    const b = generateEmWorld('em-1', { seed: 7, sessionsPerServer: 200 });
    const c = generateEmWorld('em-1', { seed: 8, sessionsPerServer: 200 });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
    const v1 = generateVboWorld('m365-1', { seed: 7, sessionsPerServer: 200 });
    expect(JSON.stringify(generateVboWorld('m365-1', { seed: 7, sessionsPerServer: 200 }))).toBe(JSON.stringify(v1));
  });

  it('keeps sessions sorted, links them consistently and has running sessions without end time', () => {
    const w = generateEmWorld('em-2', { seed: 3, sessionsPerServer: 2000 });
    for (let i = 1; i < w.restoreSessions.length; i++) {
      expect(w.restoreSessions[i]!.creationTime).toBeGreaterThanOrEqual(w.restoreSessions[i - 1]!.creationTime);
    }
    for (const s of w.restoreSessions) {
      const point = w.vmRestorePoints[s.vmRestorePoint]!;
      expect(point.backupServer).toBe(s.backupServer);
      expect(point.vmName).toBe(s.vmDisplayName);
      expect(point.creationTime).toBeLessThan(s.creationTime);
      expect(w.restorePoints[point.restorePoint]!.backupServer).toBe(s.backupServer);
    }
    const running = w.restoreSessions.filter((s) => s.endTime === undefined);
    expect(running.length).toBeGreaterThan(0);
    expect(running.every((s) => s.state !== 'Stopped')).toBe(true);
    // Even a small world has its newest session still running, in both APIs.
    for (const n of [5, 50, 300]) {
      expect(generateEmWorld('em-9', { seed: n, sessionsPerServer: n }).restoreSessions.at(-1)!.endTime).toBeUndefined();
      expect(generateVboWorld('m365-9', { seed: n, sessionsPerServer: n }).restoreSessions.at(-1)!.state).toBe('Working');
    }
  });

  it('places extra (hostile) VM names on the first backup server', () => {
    const w = generateEmWorld('em-1', { seed: 1, sessionsPerServer: 500, extraVmNames: ['a;b,c==d'] });
    const hostile = w.restoreSessions.filter((s) => s.vmDisplayName === 'a;b,c==d');
    expect(hostile.length).toBeGreaterThan(0);
    expect(hostile.every((s) => s.backupServer === 0)).toBe(true);
  });

  it('insertSorted keeps order and puts equal keys last', () => {
    const list = [
      { k: 1, n: 'a' },
      { k: 3, n: 'b' },
    ];
    insertSorted(list, { k: 3, n: 'c' }, (x) => x.k);
    insertSorted(list, { k: 2, n: 'd' }, (x) => x.k);
    expect(list.map((x) => x.n)).toEqual(['a', 'd', 'b', 'c']);
  });
});
