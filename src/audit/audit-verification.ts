import type { AuditRepository } from '../repositories/audit-repository.js';
import { genesisHash, recordHash, recordId } from './audit-chain.js';
import type { AuditCheckpoint } from './audit-checkpoint.js';
import type { EquivocationEvidence } from './witness-client.js';

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

/** What one witness (a peer, or this node's own stored checkpoints) holds of this node's chains. */
export interface WitnessReport {
  /** Who: `PT (http://…)`, or `this node's stored checkpoints`. */
  witness: string;
  /** Checkpoints, each signature already verified as this node's. */
  heads: readonly AuditCheckpoint[];
  equivocations: readonly EquivocationEvidence[];
}

/** The outcome of comparing the chains with the heads their witnesses hold. */
export interface AnchorVerification {
  /** Distinct witnessed positions (chain, seq) compared. */
  positions: number;
  broken?: { chain: string; seq: number; problem: string };
}

/**
 * Compares the chains in the database with the heads witnessed outside it. The hash of record n
 * commits to records 1..n, so a record altered and every later hash recomputed (head included)
 * shows as a differing hash at the next witnessed position; records cut off behind a witnessed
 * head, or a whole chain removed, show as a witnessed position with no record. Two different
 * heads signed for one position (caught by one witness, or seen across witnesses) mean the
 * node key signed a rewritten chain. Records after the last witnessed head are not covered.
 * Meant to run after {@link verifyAuditTrail} found every chain linked: then the last witnessed
 * head of a chain holding proves the earlier ones, and one lookup per chain suffices.
 */
export async function verifyAgainstWitnesses(repository: AuditRepository, reports: readonly WitnessReport[]): Promise<AnchorVerification> {
  const holds = async (chain: string, { seq, hash }: { seq: number; hash: string }) => (await repository.record(recordId(chain, seq)))?.hash === hash;
  for (const { witness, equivocations } of reports) {
    const first = equivocations[0];
    if (first) {
      const { chain, seq } = first.witnessed;
      return { positions: 0, broken: { chain, seq, problem: `two different heads were signed for this record (equivocation caught by ${witness}): the node key signed a rewritten chain` } };
    }
  }
  const positions = new Map<string, { chain: string; seq: number; hash: string; witness: string }>();
  for (const { witness, heads } of reports) {
    for (const { chain, seq, hash } of heads) {
      const key = recordId(chain, seq);
      const seen = positions.get(key);
      if (seen && seen.hash !== hash) {
        return { positions: positions.size, broken: { chain, seq, problem: `${seen.witness} and ${witness} hold different signed heads for this record (equivocation): the node key signed a rewritten chain` } };
      }
      if (!seen) positions.set(key, { chain, seq, hash, witness });
    }
  }
  const chains = new Set((await repository.heads()).map((h) => h._id));
  const byChain = new Map<string, { seq: number; hash: string; witness: string }[]>();
  for (const key of [...positions.keys()].sort()) {
    const position = positions.get(key)!;
    const list = byChain.get(position.chain) ?? [];
    list.push(position);
    byChain.set(position.chain, list);
  }
  for (const [chain, list] of byChain) {
    // The chain verified link by link: if its last witnessed head holds, every earlier one does.
    // Otherwise the earliest position that does not hold is named.
    if (await holds(chain, list[list.length - 1]!)) continue;
    for (const { seq, hash, witness } of list) {
      const record = await repository.record(recordId(chain, seq));
      if (record?.hash === hash) continue;
      if (!record && !chains.has(chain)) return { positions: positions.size, broken: { chain, seq, problem: `the chain is missing, though ${witness} witnessed it up to at least this record (chain removed)` } };
      if (!record) return { positions: positions.size, broken: { chain, seq, problem: `missing, though ${witness} witnessed the chain up to it (chain cut back behind a witnessed head)` } };
      return { positions: positions.size, broken: { chain, seq, problem: `differs from the head ${witness} witnessed (chain rewritten)` } };
    }
  }
  return { positions: positions.size };
}
