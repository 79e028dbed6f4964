import type { NodeConfig } from '../config.js';
import type { DocumentDatabase } from './document-collection.js';
import { AuditRepository } from './audit-repository.js';
import { moveEarlierClaims } from './claims.js';
import { CheckpointRepository } from './checkpoint-repository.js';
import { ConsentRepository } from './consent-repository.js';
import { RequestBudgetRepository } from './request-budget-repository.js';
import { TokenUseRepository } from './token-use-repository.js';
import { WitnessRepository } from './witness-repository.js';
import { DocumentCache } from './document-cache.js';
import { MemoryDatabase } from './memory-database.js';
import { PatientChanges } from './patient-changes.js';
import { PatientRepository } from './patient-repository.js';
import { SummaryRepository } from './summary-repository.js';

/** The node's repositories over one database. */
export interface Store {
  readonly database: DocumentDatabase;
  readonly summaries: SummaryRepository;
  readonly patients: PatientRepository;
  readonly consents: ConsentRepository;
  readonly audit: AuditRepository;
  /** Signed checkpoints of this node's audit chains. */
  readonly checkpoints: CheckpointRepository;
  /** Peers' audit chain heads this node witnessed. */
  readonly witnessed: WitnessRepository;
  readonly tokenUses: TokenUseRepository;
  readonly requestCounts: RequestBudgetRepository;
  close(): Promise<void>;
}

/** Options of {@link openStore}; the defaults suit a single instance. */
export type StoreOptions = Pick<NodeConfig, 'currentSummaryTtlMs' | 'documentCacheBytes'>;

/** Builds the repositories on a database and creates their indexes. */
export async function storeOn(database: DocumentDatabase, options: StoreOptions): Promise<Store> {
  // One view of each patient's changes: the consent decision's read serves the current summary too.
  const changes = new PatientChanges(database);
  const summaries = new SummaryRepository(database, new DocumentCache(options.documentCacheBytes), options.currentSummaryTtlMs, changes);
  const patients = new PatientRepository(database);
  const consents = new ConsentRepository(database, changes);
  const audit = new AuditRepository(database);
  const checkpoints = new CheckpointRepository(database);
  const witnessed = new WitnessRepository(database);
  await summaries.ensureIndexes();
  await moveEarlierClaims(database);
  await patients.ensureIndexes();
  await consents.ensureIndexes();
  await audit.ensureIndexes();
  await checkpoints.ensureIndexes();
  await witnessed.ensureIndexes();
  const requestCounts = new RequestBudgetRepository(database);
  const tokenUses = new TokenUseRepository(database);
  await tokenUses.ensureIndexes();
  return {
    database,
    summaries,
    patients,
    consents,
    audit,
    checkpoints,
    witnessed,
    tokenUses,
    requestCounts,
    async close() {
      tokenUses.close();
      await requestCounts.close();
      await database.close();
    },
  };
}

/** Opens MongoDB when `mongodbUri` is set, else the embedded in-memory store. */
export async function openStore(config: Pick<NodeConfig, 'mongodbUri' | 'mongodbDatabase'> & Partial<Pick<NodeConfig, 'embeddedMaxBytes' | 'embeddedMaxHeapBytes'>> & StoreOptions): Promise<Store> {
  // The MongoDB driver is loaded only when it is used: on the embedded store it is a tenth of a start-up.
  const database = config.mongodbUri
    ? await (await import('./mongo-database.js')).MongoDatabase.connect(config.mongodbUri, config.mongodbDatabase)
    : new MemoryDatabase({ maxBytes: config.embeddedMaxBytes, maxHeapBytes: config.embeddedMaxHeapBytes });
  return storeOn(database, config);
}
