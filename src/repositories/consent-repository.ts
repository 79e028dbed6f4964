import type { ConsentRules } from '../consent/consent-decision.js';
import type { DocumentCollection, DocumentDatabase } from './document-collection.js';

/** A patient's Consent as stored: the resource's bytes and the facts the decision filters on. */
export interface ConsentRecord {
  _id: string;
  patientId: string;
  status: string;
  dateTimeMs: number;
  versionId: number;
  lastUpdated: Date;
  /** The Consent resource, serialised with server id and meta. */
  json: string;
}

/** Consent resources, per patient. */
export class ConsentRepository {
  private readonly consents: DocumentCollection<ConsentRecord>;
  constructor(database: DocumentDatabase) {
    this.consents = database.collection<ConsentRecord>('consents');
  }

  async ensureIndexes(): Promise<void> {
    await this.consents.ensureIndexes([{ name: 'patient', keys: { patientId: 1, dateTimeMs: -1 } }]);
  }

  async create(record: ConsentRecord): Promise<void> {
    await this.consents.insertOne(record);
  }

  /** Replaces version `expectedVersion` of a Consent; false when it is no longer the latest. */
  async replace(record: ConsentRecord, expectedVersion: number): Promise<boolean> {
    const { _id, ...rest } = record;
    return this.consents.updateOne({ _id, versionId: expectedVersion }, { $set: rest });
  }

  findById(id: string): Promise<ConsentRecord | null> {
    return this.consents.findOne({ _id: id });
  }

  /** A patient's Consents, newest first. */
  forPatient(patientId: string): Promise<ConsentRecord[]> {
    return this.consents.find({ patientId }, { sort: { dateTimeMs: -1, _id: 1 } });
  }

  /** What the decision reads of a patient's Consents. Throws when the store cannot be read. */
  async rulesForPatient(patientId: string): Promise<ConsentRules[]> {
    const records = await this.consents.find({ patientId, status: 'active' }, { fields: ['status', 'dateTimeMs', 'json'] });
    return records.map((r) => {
      const resource = JSON.parse(r.json) as { provision?: ConsentRules['provision'] };
      return { id: r._id, status: r.status, dateTimeMs: r.dateTimeMs, provision: resource.provision ?? {} };
    });
  }
}
