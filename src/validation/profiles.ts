/** Canonicals of the document profiles a node can require (kept light: config imports it). */

/** The IPS Bundle profile: the default for every stored document. */
export const IPS_BUNDLE_PROFILE = 'http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips';

/** The IPS Bundle profile with the Pontis EU rules (profiles/eu). */
export const EU_BUNDLE_PROFILE = 'https://pontis.example.eu/fhir/StructureDefinition/Bundle-eu-pontis';
