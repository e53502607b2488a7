import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { docWorld } from './emDocWorld.js';
import { basic, child, compareXml, fixture, linkSummary, parseXml, PASSWORD, startEm, USER, xmlBody } from './emHarness.js';
import type { EmHarness } from './emHarness.js';

/** Simulator responses against the documented samples in test/fixtures/em (see its README for sources). */
describe('EM simulator vs documented responses', () => {
  let h: EmHarness;
  beforeAll(async () => {
    h = await startEm(docWorld());
  });
  afterAll(() => h.close());

  it('GET /api/restoreSessions/{id} is the EntityRef of veeam-docs/002', async () => {
    const res = await h.get('/api/restoreSessions/676dc837-f441-4ac1-8470-15be06b4cffc');
    expect(res.status).toBe(200);
    expect(compareXml(parseXml(fixture('restoreSession-ref.xml')), await xmlBody(res))).toEqual([]);
  });

  it('GET /api/restoreSessions/{id}?format=Entity is the RestoreSession entity of veeam-docs/002', async () => {
    const res = await h.get('/api/restoreSessions/676dc837-f441-4ac1-8470-15be06b4cffc?format=Entity');
    expect(res.status).toBe(200);
    expect(compareXml(parseXml(fixture('restoreSession-entity.xml')), await xmlBody(res))).toEqual([]);
  });

  it('answers the veeam-docs/000 request (VmDisplayName filter, format=Entities) with a QueryResult of that shape', async () => {
    const res = await h.get('/api/query?type=RestoreSession&format=Entities&filter=VmDisplayName=="virt03-ubuntu01"');
    expect(res.status).toBe(200);
    const body = await xmlBody(res);
    expect(compareXml(parseXml(fixture('query-restoreSession-entities.xml')), body)).toEqual([]);
  });

  it('has every entity element and link of the veeam-docs/004 tables, in XSD order', async () => {
    const table = JSON.parse(fixture('restoreSession-fields.json')) as { entityElements: string[]; links: { reference: string; rel: string }[] };
    const s = h.sim.addRestoreSession({
      restoredObjRef: 'urn:VMware:Vm:7f2bd1a1-0ec4-4e7b-a3a4-5a1d0e4c2f10.vm-1001',
      endTime: Date.parse('2026-11-01T00:00:05Z'),
      state: 'Stopped',
      result: 'Warning',
    });
    const body = await xmlBody(await h.get(`/api/restoreSessions/${s.id}?format=Entity`));
    // UID and Name are attributes; CreationTime/EndTime are the *UTC elements (filter names differ from element names).
    const elements = body.children.map((c) => c.name);
    expect(elements).toEqual(['Links', 'JobType', 'CreationTimeUTC', 'EndTimeUTC', 'State', 'Result', 'Progress', 'RestoredObjRef']);
    for (const name of table.entityElements) {
      const present = name in body.attrs || elements.includes(name) || elements.includes(`${name}UTC`);
      expect({ name, present }).toEqual({ name, present: true });
    }
    const links = child(body, 'Links').children;
    for (const { reference, rel } of table.links) {
      const prefix = reference.replace('/{ID}', '/');
      expect(links.some((l) => l.attrs.Rel === rel && new URL(l.attrs.Href!).pathname.startsWith(`/api${prefix}`))).toBe(true);
    }
    expect(child(body, 'CreationTimeUTC').text).toBe(new Date(s.creationTime).toISOString().replace('.000Z', 'Z'));
  });

  it('GET /api/ (no auth) is the EnterpriseManager document of docs/veeam-wire.md Part 1 section 1', async () => {
    const res = await fetch(`${h.base}/api/`);
    expect(res.status).toBe(200);
    expect(compareXml(parseXml(fixture('enterpriseManager.xml')), await xmlBody(res))).toEqual([]);
    const noSlash = await fetch(`${h.base}/api`);
    expect(noSlash.status).toBe(200);
    expect((await xmlBody(noSlash)).name).toBe('EnterpriseManager');
  });

  it('POST /api/sessionMngr answers the LogonSession of docs/veeam-wire.md Part 1 section 2', async () => {
    const res = await fetch(`${h.base}/api/sessionMngr/?v=latest`, { method: 'POST', headers: { authorization: basic(USER, PASSWORD) } });
    expect(res.status).toBe(201);
    const body = await xmlBody(res);
    const id = child(body, 'SessionId').text!;
    const expected = fixture('logonSession.xml').replaceAll('15a3fc97-0325-4119-b789-5c0367c6c565', id).replace('SRV12\\Administrator', USER);
    expect(compareXml(parseXml(expected), body)).toEqual([]);
  });

  it('errors have the <Error Message StatusCode> shape of the real capture (docs/veeam-wire.md Part 1 section 3)', async () => {
    const res = await h.get('/api/restoreSessions/00000000-0000-0000-0000-000000000000');
    expect(res.status).toBe(404);
    const body = await xmlBody(res);
    const real = parseXml(fixture('error.xml'));
    expect(body.name).toBe(real.name);
    expect(
      Object.keys(body.attrs)
        .filter((k) => !k.startsWith('xmlns'))
        .sort(),
    ).toEqual(['Message', 'StatusCode']);
    expect(
      Object.keys(real.attrs)
        .filter((k) => !k.startsWith('xmlns'))
        .sort(),
    ).toEqual(['Message', 'StatusCode']);
    expect(body.attrs.StatusCode).toBe('404');
    expect(body.attrs.Message).toContain('00000000-0000-0000-0000-000000000000');
  });

  it('QueryResult Refs and PagingInfo look like the sample of docs/veeam-wire.md Part 1 section 5', async () => {
    const h2 = await startEm({
      ...docWorld(),
      backupServers: [
        { id: 'e42211aa-3a4f-4b8e-9a3c-6c0b5e2f7d11', name: '172.17.53.47', description: '', port: 9392, version: '12.3.0.310' },
        { id: 'f0000000-0000-4000-8000-000000000000', name: 'zz.local', description: '', port: 9392, version: '12.3.0.310' },
      ],
    });
    try {
      const res = await h2.get('/api/query?type=backupServer&pageSize=1&sortAsc=name');
      expect(res.status).toBe(200);
      const text = await res.clone().text();
      expect(text).toContain('type=backupServer&amp;sortAsc=name&amp;pageSize=1&amp;page=2');
      const expected = fixture('queryResult-backupServer-paging.xml').replaceAll('type=backupServer&amp;', 'type=backupServer&amp;sortAsc=name&amp;');
      expect(compareXml(parseXml(expected), await xmlBody(res), { linksSubset: true })).toEqual([]);
    } finally {
      await h2.close();
    }
  });

  it('BackupServer entity matches [D:backupservers_id] link for link', async () => {
    const w = docWorld();
    w.backupServers[0]!.name = 'srv02.tech.local';
    const h2 = await startEm(w);
    try {
      const res = await h2.get('/api/backupServers/ce15a8c7-aa49-495e-b05b-ee3398c91018?format=Entity');
      expect(compareXml(parseXml(fixture('backupServer-entity.xml')), await xmlBody(res))).toEqual([]);
    } finally {
      await h2.close();
    }
  });

  it('VmRestorePoint reference and entity match [D:vmrestorepoints_id], plus the XSD VmName / VmDisplayName', async () => {
    const ref = await xmlBody(await h.get('/api/vmRestorePoints/5acac742-ee17-4080-8e89-a6ea67adfcf3'));
    expect(compareXml(parseXml(fixture('vmRestorePoint-ref.xml')), ref)).toEqual([]);
    const entity = await xmlBody(await h.get('/api/vmRestorePoints/5acac742-ee17-4080-8e89-a6ea67adfcf3?format=Entity'));
    expect(compareXml(parseXml(fixture('vmRestorePoint-entity.xml')), entity, { allowExtra: ['VmName', '@VmDisplayName'] })).toEqual([]);
    expect(entity.children.map((c) => c.name)).toEqual(['Links', 'CreationTimeUTC', 'VmName', 'Algorithm', 'PointType', 'HierarchyObjRef']);
    expect(entity.attrs.VmDisplayName).toBe('oracle03');
  });

  it('RestorePoint entity matches [D:restorepoints_id]', async () => {
    const res = await h.get('/api/restorePoints/e729979a-fcc2-4880-a420-9291ba64aa2a?format=Entity');
    expect(compareXml(parseXml(fixture('restorePoint-entity.xml')), await xmlBody(res))).toEqual([]);
    const ref = await xmlBody(await h.get('/api/restorePoints/e729979a-fcc2-4880-a420-9291ba64aa2a'));
    expect(ref.name).toBe('EntityRef');
    expect(linkSummary(child(ref, 'Links'))).toEqual(['Up BackupReference', 'Up BackupServerReference', 'Alternate RestorePoint']);
  });

  it('the comparison helper itself notices a wrong order, value and missing element', () => {
    const doc = parseXml(fixture('restoreSession-entity.xml'));
    const swapped = parseXml(
      fixture('restoreSession-entity.xml').replace('<State>Stopped</State>\n <Result>Success</Result>', '<Result>Success</Result>\n <State>Stopped</State>'),
    );
    expect(compareXml(doc, swapped).length).toBeGreaterThan(0);
    const other = parseXml(fixture('restoreSession-entity.xml').replace('<Progress>0</Progress>', '<Progress>1</Progress>'));
    expect(compareXml(doc, other)).toEqual(['/RestoreSession/Progress: expected text "0", got "1"']);
    const missing = parseXml(fixture('restoreSession-entity.xml').replace(/<EndTimeUTC>.*<\/EndTimeUTC>/, ''));
    expect(compareXml(doc, missing).length).toBeGreaterThan(0);
  });
});
