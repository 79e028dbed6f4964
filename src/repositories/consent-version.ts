/**
 * One version of a Consent, as stored: the resource's bytes and the facts the decision filters
 * on. Written once, never changed; `_id` is `<consentId>@<versionId>`, and inserting it is what
 * claims the version.
 */
export interface ConsentVersion {
  _id: string;
  consentId: string;
  /** The patient the Consent belongs to; the same in every version. */
  patientId: string;
  versionId: number;
  status: string;
  dateTimeMs: number;
  lastUpdated: Date;
  /** The Consent resource, serialised with server id and meta. */
  json: string;
}
