import { describe, expect, it } from '@jest/globals';
import { authenticatedRequest, type AuthRefusal } from '../../src/upstream/http/authenticatedRequest.js';

interface Res {
  status: number;
  sentWith: string;
}

/** A credential holder and a server answering `statuses` in turn; records what happened. */
function setup(statuses: number[]) {
  const calls: string[] = [];
  let credential = 'token-1';
  const answers = [...statuses];
  const request = {
    current: async () => {
      calls.push('current');
      return credential;
    },
    send: async (c: string): Promise<Res> => {
      calls.push(`send ${c}`);
      return { status: answers.shift() ?? 200, sentWith: c };
    },
    renew: async (stale: string) => {
      calls.push(`renew ${stale}`);
      credential = 'token-2';
      return credential;
    },
    authError: (res: Res, why: AuthRefusal) => new Error(`${res.status} ${why}`),
    onUnauthorized: (res: Res) => calls.push(`401 with ${res.sentWith}`),
    onRenewed: (c: string) => calls.push(`renewed ${c}`),
  };
  return { request, calls };
}

describe('authenticatedRequest', () => {
  it('sends once with the current credential when the server accepts it', async () => {
    const { request, calls } = setup([200]);
    expect(await authenticatedRequest(request)).toEqual({ status: 200, sentWith: 'token-1' });
    expect(calls).toEqual(['current', 'send token-1']);
  });

  it('on 401 renews the stale credential once and replays once', async () => {
    const { request, calls } = setup([401, 200]);
    expect(await authenticatedRequest(request)).toEqual({ status: 200, sentWith: 'token-2' });
    expect(calls).toEqual(['current', 'send token-1', '401 with token-1', 'renew token-1', 'renewed token-2', 'send token-2']);
  });

  it('a 401 to the replay is the auth error, without a second renewal', async () => {
    const { request, calls } = setup([401, 401]);
    await expect(authenticatedRequest(request)).rejects.toThrow('401 refused-after-renewal');
    expect(calls.filter((c) => c.startsWith('renew '))).toEqual(['renew token-1']);
  });

  it('a 403 is the auth error at once, on the first attempt or the replay', async () => {
    const first = setup([403]);
    await expect(authenticatedRequest(first.request)).rejects.toThrow('403 forbidden');
    expect(first.calls).toEqual(['current', 'send token-1']);
    await expect(authenticatedRequest(setup([401, 403]).request)).rejects.toThrow('403 forbidden');
  });

  it('returns every other status for the caller to judge', async () => {
    expect((await authenticatedRequest(setup([404]).request)).status).toBe(404);
    expect((await authenticatedRequest(setup([401, 503]).request)).status).toBe(503);
  });
});
