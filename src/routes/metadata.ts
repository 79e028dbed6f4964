import type { ServerRoute } from '@hapi/hapi';
import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceOperation,
  CapabilityStatementRestResourceSearchParam,
  Narrative,
  OperationDefinition,
} from 'fhir/r4.js';
import Joi from 'joi';
import type { NodeConfig } from '../config.js';
import { generatedNarrative } from '../fhir/narrative.js';
import { fhirError } from '../fhir/operation-outcome.js';
import { auditCheckpointOperation, auditHeadsOperation } from './audit-witness.js';
import { PATIENT_SEARCH_PARAMETERS } from './patient-search.js';
import { summaryOperation } from './patient-summary.js';
import { validateOperation } from './resource-validate.js';
import { commonQuery, failAction, fhirId, querySchema } from './validation.js';

/** Version of this software, reported in the CapabilityStatement. */
export const SOFTWARE_VERSION = '0.1.0';

/** Every operation this node implements, by code, with its definition (served at OperationDefinition/{id}). */
export const OPERATION_DEFINITIONS: readonly OperationDefinition[] = [summaryOperation, validateOperation, auditCheckpointOperation, auditHeadsOperation];

type SearchParam = Pick<CapabilityStatementRestResourceSearchParam, 'name' | 'type' | 'documentation'>;

/** How each search parameter a route accepts is declared (a route accepting an undeclared one fails at start-up). */
const SEARCH_PARAMETERS: Record<string, Record<string, SearchParam>> = {
  Patient: Object.fromEntries(PATIENT_SEARCH_PARAMETERS.map((p) => [p.name, { ...p }])),
  Consent: { patient: { name: 'patient', type: 'reference', documentation: 'the patient whose Consents to list (required)' } },
  AuditEvent: {
    patient: { name: 'patient', type: 'reference', documentation: "the patient whose access log to list (required; the patient's own token, or an operator)" },
    date: { name: 'date', type: 'date', documentation: 'le followed by an instant only: records up to then (the page links carry it, so that later pages do not shift)' },
  },
};

/** Result parameters, the same on every search. */
const RESULT_PARAMETERS: Record<string, SearchParam> = {
  _count: { name: '_count', type: 'number', documentation: 'matches per page' },
  _offset: { name: '_offset', type: 'number', documentation: 'matches skipped (paging; the next and previous links carry it)' },
  _summary: { name: '_summary', type: 'token', documentation: 'count only: the total, no entries' },
  _elements: { name: '_elements', type: 'special', documentation: 'top-level elements to return (mandatory ones and id, meta always; tagged SUBSETTED)' },
};

const INTERACTION_ORDER = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'] as const;
type Interaction = (typeof INTERACTION_ORDER)[number];

/** What one route claims: an interaction on a type, or an operation at some level. */
export type RouteClaim =
  | { kind: 'interaction'; resourceType: string; interaction: Interaction }
  | { kind: 'operation'; level: 'system' | 'type' | 'instance'; resourceType?: string; code: string }
  | { kind: 'capabilities' };

/**
 * What a route of the FHIR API is, by method and path (REST conventions of FHIR R4); undefined
 * for what is not a FHIR interaction (the node's JWK Set).
 */
export function claimOf(method: string, path: string): RouteClaim | undefined {
  const m = method.toUpperCase();
  if (!path.startsWith('/fhir/') || path.startsWith('/fhir/.well-known/')) return undefined;
  const parts = path.slice('/fhir/'.length).split('/');
  if (parts[0] === 'metadata') return { kind: 'capabilities' };
  const op = parts.findIndex((p) => p.startsWith('$'));
  if (op >= 0) {
    const code = parts[op]!.slice(1);
    if (op === 0) return { kind: 'operation', level: 'system', code };
    const resourceType = parts[0]!;
    return { kind: 'operation', level: op === 1 ? 'type' : 'instance', ...(resourceType === '{type}' ? {} : { resourceType }), code };
  }
  const resourceType = parts[0]!;
  const shape = parts
    .slice(1)
    // A path parameter or a fixed id (OperationDefinition/summary) is an id.
    .map((p) => (p === '_history' ? p : '*'))
    .join('/');
  const interaction = ({ 'GET:': 'search-type', 'POST:': 'create', 'GET:*': 'read', 'PUT:*': 'update', 'DELETE:*': 'delete', 'GET:*/_history': 'history-instance', 'GET:*/_history/*': 'vread', 'GET:_history': 'history-type' } as Record<string, Interaction>)[`${m}:${shape}`];
  if (!interaction) throw new Error(`route ${m} ${path} is no FHIR interaction the CapabilityStatement can declare`);
  return { kind: 'interaction', resourceType, interaction };
}

/** Names of the query parameters a route's joi schema accepts, beyond `_format` and `_pretty`. */
export function queryParametersOf(route: Pick<ServerRoute, 'options'>): string[] {
  const options = typeof route.options === 'function' ? undefined : route.options;
  const schema = options?.validate?.query;
  if (!schema || !Joi.isSchema(schema)) return [];
  const keys = (schema.describe() as { keys?: Record<string, unknown> }).keys ?? {};
  return Object.keys(keys).filter((k) => !(k in commonQuery));
}

function searchParamsFor(resourceType: string, route: ServerRoute): CapabilityStatementRestResourceSearchParam[] {
  return queryParametersOf(route).map((name) => {
    const declared = SEARCH_PARAMETERS[resourceType]?.[name] ?? RESULT_PARAMETERS[name];
    if (!declared) throw new Error(`GET /fhir/${resourceType} accepts "${name}", which the CapabilityStatement does not describe`);
    return { ...declared };
  });
}

function definitionOf(code: string): OperationDefinition {
  const definition = OPERATION_DEFINITIONS.find((d) => d.code === code);
  if (!definition) throw new Error(`operation $${code} is routed but has no OperationDefinition`);
  return definition;
}

/**
 * Exactly what this node supports, derived from its routes: each resource type's interactions
 * and search parameters (the routes' own joi schemas), each operation at the level it is routed
 * with its OperationDefinition, and the security that authentication enforces.
 */
export function capabilityStatement(config: NodeConfig, routes: readonly ServerRoute[], startedAt: Date): CapabilityStatement {
  const resources = new Map<string, CapabilityStatementRestResource>();
  const resource = (type: string): CapabilityStatementRestResource => {
    let r = resources.get(type);
    if (!r) {
      r = { type: type as CapabilityStatementRestResource['type'] };
      resources.set(type, r);
    }
    return r;
  };
  const systemOperations: CapabilityStatementRestResourceOperation[] = [];
  const addOperation = (list: CapabilityStatementRestResourceOperation[], code: string) => {
    const definition = definitionOf(code);
    if (!list.some((o) => o.name === code)) list.push({ name: code, definition: definition.url! });
  };
  for (const route of routes) {
    for (const method of [route.method].flat()) {
      const claim = claimOf(String(method), route.path);
      if (!claim || claim.kind === 'capabilities') continue;
      if (claim.kind === 'operation') {
        // A type-level operation routed for every type ({type}) is declared at rest level.
        if (claim.resourceType === undefined) addOperation(systemOperations, claim.code);
        else addOperation((resource(claim.resourceType).operation ??= []), claim.code);
        continue;
      }
      const r = resource(claim.resourceType);
      r.interaction ??= [];
      if (!r.interaction.some((i) => i.code === claim.interaction)) r.interaction.push({ code: claim.interaction });
      if (claim.interaction === 'search-type') r.searchParam = searchParamsFor(claim.resourceType, route);
    }
  }
  for (const r of resources.values()) {
    r.interaction?.sort((a, b) => INTERACTION_ORDER.indexOf(a.code as Interaction) - INTERACTION_ORDER.indexOf(b.code as Interaction));
    const codes = new Set(r.interaction?.map((i) => i.code));
    if (codes.has('update')) Object.assign(r, { versioning: 'versioned-update', updateCreate: false, conditionalUpdate: false });
    if (codes.has('create')) r.conditionalCreate = false;
    if (codes.has('vread') || codes.has('history-instance')) r.readHistory = true;
    if (codes.has('update') || codes.has('create')) r.conditionalDelete = 'not-supported';
  }
  const bundle = resources.get('Bundle');
  if (bundle) bundle.supportedProfile = [config.documentProfile];
  const describe = (r: CapabilityStatementRestResource) =>
    `${r.type}: ${[...(r.interaction ?? []).map((i) => i.code), ...(r.operation ?? []).map((o) => `$${o.name}`)].join(', ')}${r.searchParam ? `; search by ${r.searchParam.map((p) => p.name).join(', ')}` : ''}`;
  return {
    resourceType: 'CapabilityStatement',
    text: generatedNarrative(`Pontis National Contact Point (${config.country}), FHIR 4.0.1 server at ${config.baseUrl}`, [
      ...[...resources.values()].map(describe),
      ...systemOperations.map((o) => `$${o.name}`),
    ]),
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
          'IPS documents are pushed as Bundles of type document and validated against the IPS 2.0.0 profiles; patients are indexed from them. Searches answer a page at a time with their total and next/previous links.',
        security: {
          cors: false,
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth', display: 'OAuth' }], text: 'IHE IUA bearer tokens with SMART v2 scopes' }],
          description:
            "Every interaction except metadata and the OperationDefinitions needs an Authorization header with the word Bearer followed by an IHE IUA token: a JWT (ES256, RS256 or EdDSA) from an issuer in this node's trust list, used once, carrying SMART v2 scopes such as user/Patient.rs or system/Bundle.cru. This node does not issue tokens. Patient data is released per the patient's consent, and every request to it is audited.",
        },
        resource: [...resources.values()],
        ...(systemOperations.length > 0 ? { operation: systemOperations } : {}),
      },
    ],
  };
}

/** `GET /fhir/metadata`: the statement of `routes` (the FHIR API as routed). */
export function metadataRoute(config: NodeConfig, routes: readonly ServerRoute[]): ServerRoute {
  // Built now: a route the statement cannot describe stops the node at start-up.
  const statement = capabilityStatement(config, routes, new Date());
  return {
    method: 'GET',
    path: '/fhir/metadata',
    options: { auth: false, validate: { query: querySchema({ mode: Joi.string().valid('full') }), failAction } },
    handler: () => statement,
  };
}

/** The generated narrative of an OperationDefinition: what it does, where, and its parameters. */
function narrativeOfOperation(d: OperationDefinition): Narrative {
  const levels = [d.system ? 'system' : '', d.type ? `type (${(d.resource ?? []).join(', ') || 'any'})` : '', d.instance ? 'instance' : ''].filter(Boolean).join(', ');
  return generatedNarrative(`$${d.code}: ${d.title ?? d.name ?? ''} (${levels} level)${d.description ? `. ${d.description}` : ''}`, (d.parameter ?? []).map((p) => `${p.use} ${p.name} ${p.min}..${p.max}${p.type ? ` ${p.type}` : ''}${p.documentation ? `: ${p.documentation}` : ''}`));
}

/** `GET /fhir/OperationDefinition/{id}`: the definitions of the operations this node implements. */
export function operationDefinitionRoute(): ServerRoute {
  const served = new Map(OPERATION_DEFINITIONS.map((d) => [d.id!, { ...d, text: narrativeOfOperation(d) }]));
  return {
    method: 'GET',
    path: '/fhir/OperationDefinition/{id}',
    options: { auth: false, validate: { params: Joi.object({ id: fhirId.required() }), query: querySchema({}), failAction } },
    handler(request) {
      const found = served.get(request.params['id'] as string);
      if (!found) throw fhirError(404, { code: 'not-found', message: 'this node implements no such operation' });
      return found;
    },
  };
}
