import { createHash } from 'node:crypto';
import type { AuditRecord } from '../repositories/audit-repository.js';

/** The hash a chain starts from: binds its first record to the chain's name. */
export function genesisHash(chain: string): string {
  return createHash('sha256').update(`pontis-audit-genesis\n${chain}`).digest('hex');
}

/** Hash of a record: everything stored of it except the hash itself, and the previous hash. */
export function recordHash(record: Omit<AuditRecord, 'hash' | '_id'>): string {
  return createHash('sha256')
    .update(record.prevHash)
    .update('\n')
    .update(`${record.chain}\n${record.seq}\n${record.recordedMs}\n${record.patientIds.join(',')}\n${record.breakGlass ? 1 : 0}\n`)
    .update(record.json)
    .digest('hex');
}

/** Zero-padded sequence number, so that record ids sort in chain order. */
export function recordId(chain: string, seq: number): string {
  return `${chain}:${String(seq).padStart(12, '0')}`;
}
