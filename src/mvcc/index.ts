/** The MVCC layer: versioned page store, commit log, and the MVCC view of a backend. */
export { CommitLog, newTxnId, type CommitRecord, type RecoveredLog } from './commit-log.js';
export { PageStore, pageSizeOf, type PageStoreOptions, type VersionInfo } from './page-store.js';
export { MvccBackend, MvccFile } from './mvcc-backend.js';
