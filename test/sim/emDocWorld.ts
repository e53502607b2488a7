import type { EmRestoreSession, EmServerWorld } from '../../src/sim/world/types.js';

const t = (iso: string): number => Date.parse(iso);

/**
 * A hand-built world whose records carry the ids, names and times of the documented samples in
 * test/fixtures/em, plus a few extra sessions for filter, sort and paging tests.
 */
export function docWorld(): EmServerWorld {
  const sessions: EmRestoreSession[] = [
    {
      id: '676dc837-f441-4ac1-8470-15be06b4cffc',
      name: 'FLR_[srv04]@2014-10-19 05:59:18',
      jobType: 'FileLevelRestore',
      vmDisplayName: 'srv04',
      creationTime: t('2014-10-19T05:59:18Z'),
      endTime: t('2014-10-19T06:28:24Z'),
      state: 'Stopped',
      result: 'Success',
      progress: 0,
      // The doc sample has no RestoredObjRef; an empty one is left out.
      restoredObjRef: '',
      backupServer: 0,
      vmRestorePoint: 0,
    },
    {
      id: '5a3b7fd4-1c1f-4b9e-9d9d-6a1a0f0c2a11',
      name: 'FLR_[virt03-ubuntu01]@2025-08-14 12:31:30',
      jobType: 'FileLevelRestore',
      vmDisplayName: 'virt03-ubuntu01',
      creationTime: t('2025-08-14T12:31:30.389Z'),
      endTime: t('2025-08-14T12:31:31Z'),
      state: 'Stopped',
      result: 'Success',
      progress: 0,
      restoredObjRef: '',
      backupServer: 0,
      vmRestorePoint: 0,
    },
  ];
  return {
    name: 'em-docs',
    backupServers: [
      { id: 'ce15a8c7-aa49-495e-b05b-ee3398c91018', name: 'srv02.veeam.local', description: '', port: 9392, version: '8.0' },
      { id: '00fd67d9-2b4c-4c56-8a95-0b3dbec7ae43', name: '172.17.53.1', description: 'Lab & <test>', port: 9392, version: '12.3.0.310' },
      { id: '99f01406-ecdc-428f-ae09-a13de244140a', name: '172.17.53.1', description: '', port: 9392, version: '9.5.0.1038' },
    ],
    backups: [{ id: '10cf7239-ddbd-47ad-8cfa-15438a5a5467', name: 'Webserver Backup', backupServer: 2, platform: 'VMware' }],
    restorePoints: [
      { id: 'dc216c04-2e34-478e-8b9b-49a3397ef6f8', name: 'Oct  6 2025  1:59PM', backupDate: t('2025-10-06T13:59:02Z'), backupServer: 1, backup: 0 },
      { id: 'e729979a-fcc2-4880-a420-9291ba64aa2a', name: 'Sep 20 2016  2:59PM', backupDate: t('2016-09-20T14:59:02.777Z'), backupServer: 2, backup: 0 },
    ],
    vmRestorePoints: [
      {
        id: 'fb87163e-687d-4006-96c9-0451b5423b85',
        name: 'srv04@2014-10-19 05:25:15',
        vmName: 'srv04',
        creationTime: t('2014-10-19T05:25:15Z'),
        algorithm: 'Incremental',
        pointType: 'Increment',
        hierarchyObjRef: 'urn:VMware:Vm:7f2bd1a1-0ec4-4e7b-a3a4-5a1d0e4c2f10.vm-1001',
        backupServer: 0,
        restorePoint: 1,
        backupFileId: '3f1b0c55-6a57-4a0e-9d40-2fb6f2e7d001',
        backupFileName: 'DailyVMsD2014-10-19T052515.vib',
      },
      {
        id: '5acac742-ee17-4080-8e89-a6ea67adfcf3',
        name: 'oracle03@2025-10-06 13:59:50',
        vmName: 'oracle03',
        creationTime: t('2025-10-06T13:59:50.783Z'),
        algorithm: 'Incremental',
        pointType: 'Increment',
        hierarchyObjRef: 'urn:HyperV:Vm:757baa80-d19b-4607-a592-98e15d45d9b2.e3e47ce3-ace6-4f06-9aaf-f52cf2e11234',
        backupServer: 1,
        restorePoint: 0,
        backupFileId: 'e86f61f9-4220-4f55-820b-e41a38abce90',
        backupFileName: 'Oracle BackupD2025-10-06T165918.vib',
      },
    ],
    restoreSessions: sessions,
  };
}

/** A session on top of the doc world, for the filter and paging tests. */
export function session(partial: Partial<EmRestoreSession> & { id: string; creationTime: number }): EmRestoreSession {
  return {
    name: `vm@${new Date(partial.creationTime).toISOString()}`,
    jobType: 'RestoreVm',
    vmDisplayName: 'vm',
    state: 'Stopped',
    result: 'Success',
    progress: 100,
    restoredObjRef: 'urn:VMware:Vm:7f2bd1a1-0ec4-4e7b-a3a4-5a1d0e4c2f10.vm-1001',
    backupServer: 1,
    vmRestorePoint: 1,
    endTime: partial.creationTime + 60_000,
    ...partial,
  };
}
