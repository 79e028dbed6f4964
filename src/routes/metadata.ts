import type { ServerRoute } from '@hapi/hapi';
import type { CapabilityStatement } from 'fhir/r4.js';
import Joi from 'joi';
import type { NodeConfig } from '../config.js';
import { PATIENT_SEARCH_PARAMETERS } from './patient-search.js';
import { summaryOperation } from './patient-summary.js';
import { validateOperation } from './resource-validate.js';
import { failAction, querySchema } from './validation.js';

/** Version of this software, reported in the CapabilityStatement. */
export const SOFTWARE_VERSION = '0.1.0';

/** Exactly what this node supports: keep in step with the routes. */
export function capabilityStatement(config: NodeConfig, startedAt: Date): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: startedAt.toISOString(),
    publisher: 'Pontis',
    kind: 'instance',
    software: { name: 'Pontis', version: SOFTWARE_VERSION },
    implementation: { description: `Pontis National Contact Point (${config.country})`, url: config.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/json'],
    instantiates: ['http://hl7.org/fhir/uv/ips/CapabilityStatement/ips-server'],
    rest: [
      {
        mode: 'server',
        documentation:
          'IPS documents are pushed as Bundles of type document and validated against the IPS 2.0.0 profiles; patients are indexed from them.',
        security: {
          cors: false,
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }], text: 'IHE IUA' }],
          description:
            'Every interaction except metadata needs Authorization: Bearer <JWT>, an IHE IUA token (ES256, RS256 or EdDSA) from an issuer in this node\'s trust list, with SMART v2 scopes. Patient data is released per the patient\'s consent, and every request to it is audited.',
        },
        operation: [{ name: 'validate', definition: validateOperation.url! }],
        resource: [
          {
            type: 'Bundle',
            supportedProfile: [config.documentProfile],
            interaction: [{ code: 'create' }, { code: 'update' }, { code: 'read' }, { code: 'vread' }, { code: 'history-instance' }],
            versioning: 'versioned-update',
            readHistory: true,
            updateCreate: false,
            conditionalCreate: false,
            conditionalUpdate: false,
            conditionalDelete: 'not-supported',
          },
          {
            type: 'Patient',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: PATIENT_SEARCH_PARAMETERS.map((p) => ({ ...p })),
            operation: [{ name: 'summary', definition: summaryOperation.url! }],
          },
          {
            type: 'Consent',
            interaction: [{ code: 'create' }, { code: 'update' }, { code: 'read' }, { code: 'vread' }, { code: 'history-instance' }, { code: 'search-type' }],
            versioning: 'versioned-update',
            readHistory: true,
            updateCreate: false,
            searchParam: [{ name: 'patient', type: 'reference', documentation: 'the patient whose Consents to list' }],
          },
          {
            type: 'AuditEvent',
            interaction: [{ code: 'search-type' }],
            searchParam: [
              { name: 'patient', type: 'reference', documentation: "the patient whose access log to list (the patient's own token, or an operator)" },
              { name: '_count', type: 'number', documentation: 'how many records, newest first (default 100, at most 500)' },
            ],
          },
        ],
      },
    ],
  };
}

/** `GET /fhir/metadata`. */
export function metadataRoute(config: NodeConfig): ServerRoute {
  const statement = capabilityStatement(config, new Date());
  return {
    method: 'GET',
    path: '/fhir/metadata',
    options: { auth: false, validate: { query: querySchema({ mode: Joi.string().valid('full') }), failAction } },
    handler: () => statement,
  };
}
