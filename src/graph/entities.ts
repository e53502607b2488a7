import type { EmBackupServer, EmRestoreSession, EmVmRestorePoint } from '../upstream/em/types.js';
import type { VboOrganization, VboRestorePoint, VboRestoreSession } from '../upstream/vbo/types.js';
import type {
  BackupServerParent,
  EmRestoreSessionParent,
  M365RestorePointParent,
  M365RestoreSessionParent,
  OrganizationParent,
  VmRestorePointParent,
} from './mappers.js';
import type { EmGraphSource, VboGraphSource } from './sources/createSources.js';

/** Parent values from wire values (mappers.ts). */
export const emSession = (source: EmGraphSource, value: EmRestoreSession): EmRestoreSessionParent => ({
  type: 'EnterpriseManagerRestoreSession',
  source,
  value,
});
export const m365Session = (source: VboGraphSource, value: VboRestoreSession): M365RestoreSessionParent => ({
  type: 'Microsoft365RestoreSession',
  source,
  value,
});
export const backupServer = (source: EmGraphSource, value: EmBackupServer): BackupServerParent => ({ type: 'BackupServer', source, value });
export const vmRestorePoint = (source: EmGraphSource, value: EmVmRestorePoint): VmRestorePointParent => ({ type: 'VmRestorePoint', source, value });
export const m365RestorePoint = (source: VboGraphSource, value: VboRestorePoint): M365RestorePointParent => ({
  type: 'Microsoft365RestorePoint',
  source,
  value,
});
export const organization = (source: VboGraphSource, value: VboOrganization): OrganizationParent => ({ type: 'Organization', source, value });
