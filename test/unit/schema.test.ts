import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  type GraphQLSchema,
} from 'graphql';

/** Conventions of schema/*.graphql that review would otherwise have to remember (design.md section 4). */
function loadSchema(): GraphQLSchema {
  const dir = new URL('../../schema/', import.meta.url);
  // federation.graphql only adds Federation directives for subgraph mode (test/server/federation.test.ts).
  const files = readdirSync(dir).filter((f) => f.endsWith('.graphql') && f !== 'federation.graphql');
  return buildSchema(files.map((f) => readFileSync(new URL(f, dir), 'utf8')).join('\n'));
}

const schema = loadSchema();
const ownTypes = Object.values(schema.getTypeMap()).filter((t) => !t.name.startsWith('__') && !(isScalarType(t) && isSpecifiedScalarType(t)));

describe('schema conventions', () => {
  it('has the roots of issue 5', () => {
    expect(Object.keys(schema.getQueryType()!.getFields()).sort()).toEqual(
      ['backupServer', 'backupServers', 'node', 'nodes', 'organizations', 'restorePoints', 'restoreSession', 'restoreSessions', 'sources'].sort(),
    );
  });

  it('describes every type, field, argument and enum value for the GraphiQL reader', () => {
    const missing: string[] = [];
    for (const type of ownTypes) {
      if (!type.description?.trim()) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description?.trim()) missing.push(`${type.name}.${field.name}`);
          for (const arg of field.args) if (!arg.description?.trim()) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isInputObjectType(type))
        for (const field of Object.values(type.getFields())) if (!field.description?.trim()) missing.push(`${type.name}.${field.name}`);
      if (isEnumType(type)) for (const value of type.getValues()) if (!value.description?.trim()) missing.push(`${type.name}.${value.name}`);
    }
    expect(missing).toEqual([]);
  });

  it('gives every entity a global id, its source, Veeam id and raw links', () => {
    const node = schema.getType('Node');
    const entities = ownTypes.filter((t) => isObjectType(t) && t.getInterfaces().some((i) => i === node));
    expect(entities.map((t) => t.name).sort()).toEqual(
      [
        'BackupServer',
        'EnterpriseManagerRestoreSession',
        'Microsoft365RestorePoint',
        'Microsoft365RestoreSession',
        'Microsoft365RestoreSessionEvent',
        'Organization',
        'Source',
        'VmRestorePoint',
      ].sort(),
    );
    for (const entity of entities) {
      if (!isObjectType(entity)) continue;
      const fields = entity.getFields();
      expect(String(fields.id?.type)).toBe('ID!');
      if (entity.name === 'Source') continue;
      expect([entity.name, String(fields.nativeId?.type)]).toEqual([entity.name, 'String!']);
      expect([entity.name, String(fields.source?.type)]).toEqual([entity.name, 'Source!']);
      expect([entity.name, String(fields.links?.type)]).toEqual([entity.name, '[Link!]!']);
    }
  });

  it('keeps link fields nullable, so one failed lookup nulls only that field', () => {
    const links: [string, string][] = [
      ['EnterpriseManagerRestoreSession', 'backupServer'],
      ['EnterpriseManagerRestoreSession', 'restorePoint'],
      ['VmRestorePoint', 'backupServer'],
      ['Microsoft365RestoreSession', 'organization'],
      ['Microsoft365RestorePoint', 'organization'],
    ];
    for (const [type, field] of links) {
      const t = schema.getType(type);
      if (!isObjectType(t)) throw new Error(type);
      expect(String(t.getFields()[field]!.type).endsWith('!')).toBe(false);
    }
  });

  it('pages every connection with first/after, no SDL default for first (the configured default applies)', () => {
    let connections = 0;
    for (const type of ownTypes) {
      if (!isObjectType(type) && !isInterfaceType(type)) continue;
      for (const field of Object.values(type.getFields())) {
        if (!getNamedType(field.type).name.endsWith('Connection')) continue;
        connections++;
        const first = field.args.find((a) => a.name === 'first');
        expect([type.name, field.name, String(first?.type), first?.defaultValue]).toEqual([type.name, field.name, 'Int', undefined]);
        expect(String(field.args.find((a) => a.name === 'after')?.type)).toBe('String');
        const connection = getNamedType(field.type);
        if (!isObjectType(connection)) throw new Error(connection.name);
        expect(Object.keys(connection.getFields())).toEqual(expect.arrayContaining(['edges', 'nodes', 'pageInfo']));
      }
    }
    expect(connections).toBe(8);
  });

  it('tolerates unknown state and result values', () => {
    for (const name of ['RestoreSessionState', 'RestoreSessionResult']) {
      const type = schema.getType(name);
      if (!isEnumType(type)) throw new Error(name);
      expect(type.getValues().map((v) => v.name)).toContain('UNKNOWN');
    }
  });
});
