/** The node's consent policy: what holds where a patient has said nothing, and who may ask. */
export interface ConsentPolicy {
  /**
   * Without an active Consent: `opt-in` refuses (cross-border sharing needs the patient's
   * explicit permit, as in MyHealth@EU); `opt-out` permits unless the patient opted out.
   */
  defaultDecision: 'opt-in' | 'opt-out';
  /** Whether break-glass (purpose ETREAT or BTG with a reason) overrides the patient's consent. */
  breakGlass: 'allowed' | 'refused';
  /**
   * What break-glass does with sections the patient withheld: `withhold` (default) keeps them
   * withheld, marked as such in the document, so the clinician knows something is missing
   * (EHDS: restrictions hold in emergencies unless national law says otherwise); `release`
   * lets the emergency override them too. Either way the patient's access log shows the read.
   */
  breakGlassWithheld?: 'withhold' | 'release';
  /** ISCO-08 codes (or their major groups, e.g. `221`) of clinicians who may read summaries. */
  readRoles: readonly string[];
}

/** LOINC code of the Patient summary document: the service a Consent permits or denies. */
export const PATIENT_SUMMARY_CODE = '60591-5';
export const LOINC = 'http://loinc.org';
/** Identifier system naming a country in a Consent actor (ISO 3166-1 alpha-2). */
export const COUNTRY_SYSTEM = 'urn:iso:std:iso:3166';
