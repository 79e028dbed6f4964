import type { AuditRepository } from '../repositories/audit-repository.js';
import { genesisHash, recordHash } from './audit-chain.js';

/** The first broken link found, if any. */
export interface AuditVerification {
  chains: number;
  records: number;
  broken?: { chain: string; seq: number; problem: string };
}

const PAGE = 1000;

/**
 * Walks every chain: records numbered 1..n without gaps, each hash recomputed from its content
 * and the previous hash, and the chain's head (the last record its writer made durable) present
 * and matching. Any record altered, removed or reordered breaks one of these.
 */
export async function verifyAuditTrail(repository: AuditRepository): Promise<AuditVerification> {
  const heads = await repository.heads();
  const known = new Set(heads.map((h) => h._id));
  let records = 0;
  for (const chain of await repository.chainsWithRecords()) {
    if (!known.has(chain)) return { chains: heads.length, records, broken: { chain, seq: 1, problem: 'records of a chain with no head: its head was removed' } };
  }
  for (const head of heads) {
    let prevHash = genesisHash(head._id);
    let seq = 0;
    for (;;) {
      const page = await repository.chainPage(head._id, seq, PAGE);
      for (const record of page) {
        const expected = seq + 1;
        const at = { chain: head._id, seq: expected };
        if (record.seq !== expected) return { chains: heads.length, records, broken: { ...at, problem: `record ${expected} is missing` } };
        if (record.prevHash !== prevHash) return { chains: heads.length, records, broken: { ...at, problem: 'does not link to the record before it (removed or reordered)' } };
        if (recordHash(record) !== record.hash) return { chains: heads.length, records, broken: { ...at, problem: 'content does not match its hash (altered)' } };
        if (record.seq === head.headSeq && record.hash !== head.headHash) {
          return { chains: heads.length, records, broken: { ...at, problem: 'differs from the chain head (altered)' } };
        }
        prevHash = record.hash;
        seq = record.seq;
        records += 1;
      }
      if (page.length < PAGE) break;
    }
    if (seq < head.headSeq) {
      return { chains: heads.length, records, broken: { chain: head._id, seq: seq + 1, problem: `records ${seq + 1} to ${head.headSeq} were removed` } };
    }
  }
  return { chains: heads.length, records };
}
