import type { RequestRoute, Server, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { NodeConfig } from '../config.js';
import { SOFTWARE_VERSION, claimOf } from './metadata.js';

/** An OpenAPI 3.0 schema object (the subset written here). */
type Schema = Record<string, unknown>;

interface JoiDescription {
  type?: string;
  flags?: { presence?: string; default?: unknown; only?: boolean; description?: string };
  allow?: unknown[];
  rules?: { name: string; args?: Record<string, unknown> }[];
  keys?: Record<string, JoiDescription>;
}

/** A JSON Schema (OpenAPI 3.0 dialect) of what a joi schema accepts, as far as it can be said. */
export function schemaOfJoi(d: JoiDescription): Schema {
  const schema: Schema = {};
  const rules = d.rules ?? [];
  const rule = (name: string) => rules.find((r) => r.name === name)?.args;
  switch (d.type) {
    case 'number': {
      schema['type'] = rules.some((r) => r.name === 'integer') ? 'integer' : 'number';
      const min = rule('min')?.['limit'];
      const max = rule('max')?.['limit'];
      if (typeof min === 'number') schema['minimum'] = min;
      if (typeof max === 'number') schema['maximum'] = max;
      break;
    }
    case 'boolean':
      schema['type'] = 'boolean';
      break;
    case 'object':
      schema['type'] = 'object';
      if (d.keys) {
        schema['properties'] = Object.fromEntries(Object.entries(d.keys).map(([k, v]) => [k, schemaOfJoi(v)]));
        const required = Object.entries(d.keys)
          .filter(([, v]) => v.flags?.presence === 'required')
          .map(([k]) => k);
        if (required.length > 0) schema['required'] = required;
      }
      break;
    default: {
      schema['type'] = 'string';
      const pattern = rule('pattern')?.['regex'];
      if (typeof pattern === 'string') schema['pattern'] = pattern.slice(1, pattern.lastIndexOf('/'));
      const min = rule('min')?.['limit'];
      const max = rule('max')?.['limit'];
      if (typeof min === 'number') schema['minLength'] = min;
      if (typeof max === 'number') schema['maxLength'] = max;
    }
  }
  if (d.flags?.only && d.allow) schema['enum'] = d.allow;
  if (d.flags?.default !== undefined && typeof d.flags.default !== 'function') schema['default'] = d.flags.default;
  return schema;
}

function describeSchema(schema: unknown): JoiDescription | undefined {
  return Joi.isSchema(schema) ? (schema.describe() as JoiDescription) : undefined;
}

const FHIR_TYPES = ['application/fhir+json', 'application/json'];
const fhirContent = (ref: string) => Object.fromEntries(FHIR_TYPES.map((t) => [t, { schema: { $ref: ref } }]));

/** Statuses every FHIR route may answer besides its success, each with an OperationOutcome. */
const ERROR_STATUSES: Record<string, string> = {
  '400': 'invalid request (parameters or body), named by FHIRPath',
  '401': 'no token, or a token refused',
  '403': 'the token does not allow it, or the consent refuses it',
  '404': 'no such resource, or not released to this requester',
  '405': 'method not supported on this path (Allow names those that are)',
  '406': 'only FHIR JSON is produced',
  '408': 'the request took too long to arrive',
  '409': 'conflict (several patients matched, or a contradicting witnessed head)',
  '410': 'gone',
  '412': 'If-Match does not name the latest version',
  '413': 'body too large',
  '415': 'send FHIR JSON',
  '422': 'the resource does not meet the profiles in force',
  '428': 'updates need If-Match',
  '429': 'over a request budget (Retry-After)',
  '431': 'headers too large',
  '502': 'a peer node answered wrongly',
  '503': 'unavailable: audit not written, or a peer paused (Retry-After)',
  '504': 'a peer node did not answer in time',
};

function summaryOf(method: string, path: string): string {
  const claim = claimOf(method, path);
  if (!claim) return `${method} ${path}`;
  if (claim.kind === 'capabilities') return 'CapabilityStatement of this node';
  if (claim.kind === 'operation') return `$${claim.code} (${claim.level} level${claim.resourceType ? ` on ${claim.resourceType}` : ''})`;
  return `${claim.resourceType} ${claim.interaction}`;
}

/** The non-FHIR routes, described by hand: plain JSON or text. */
function operationalOperation(route: RequestRoute): Record<string, unknown> | undefined {
  const json = (description: string, schema: Schema) => ({ description, content: { 'application/json': { schema } } });
  const readiness = { type: 'object', required: ['status', 'checks'], properties: { status: { type: 'string', enum: ['ready', 'not-ready'] }, checks: { type: 'object', additionalProperties: { type: 'string' } } } };
  switch (route.path) {
    case '/health/live':
      return { summary: 'the process serves HTTP', security: [], responses: { '200': json('live', { type: 'object', properties: { status: { type: 'string', enum: ['live'] } } }) } };
    case '/health/ready':
      return { summary: 'store, profiles, trust list and peers ready; not ready while shutting down', security: [], responses: { '200': json('ready', readiness), '503': json('not ready, naming the part', readiness) } };
    case '/metrics':
      return {
        summary: 'Prometheus metrics (operator token)',
        responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } }, '401': { description: 'no or wrong operator token', content: fhirContent('#/components/schemas/OperationOutcome') } },
      };
    case '/openapi.json':
      return { summary: 'this description', security: [], responses: { '200': json('OpenAPI 3.0', { type: 'object' }) } };
    case '/openapi.html':
      return { summary: 'this description, rendered (demo mode)', security: [], responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } } };
    case '/fhir/.well-known/jwks.json':
      return {
        summary: "the node's public signing keys (JWK Set)",
        security: [],
        responses: { '200': { description: 'JWK Set', content: { 'application/jwk-set+json': { schema: { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: { type: 'object' } } } } } } } },
      };
    default:
      return undefined;
  }
}

function fhirOperation(route: RequestRoute): Record<string, unknown> {
  const method = route.method.toUpperCase();
  const settings = route.settings;
  const parameters: Record<string, unknown>[] = [];
  const params = describeSchema(settings.validate?.params);
  for (const [name, d] of Object.entries(params?.keys ?? {})) parameters.push({ name, in: 'path', required: true, schema: schemaOfJoi(d) });
  const query = describeSchema(settings.validate?.query);
  for (const [name, d] of Object.entries(query?.keys ?? {})) {
    parameters.push({ name, in: 'query', required: d.flags?.presence === 'required', schema: schemaOfJoi(d) });
  }
  if (method === 'PUT') parameters.push({ name: 'If-Match', in: 'header', required: false, description: 'the version read last, W/"<n>" (428 without it)', schema: { type: 'string', pattern: '^(W/)?"[0-9]{1,9}"$' } });
  if (method === 'POST' || method === 'PUT') parameters.push({ name: 'Prefer', in: 'header', required: false, schema: { type: 'string', enum: ['return=minimal', 'return=representation', 'return=OperationOutcome'] } });
  const takesBody = settings.payload && method !== 'GET' && method !== 'HEAD';
  const claim = claimOf(method, route.path);
  const success = method === 'POST' && claim?.kind === 'interaction' ? ['201', '200'] : ['200'];
  const responses: Record<string, unknown> = {};
  for (const status of success) responses[status] = { description: status === '201' ? 'created' : 'OK', content: fhirContent('#/components/schemas/Resource') };
  for (const [status, description] of Object.entries(ERROR_STATUSES)) responses[status] = { description, content: fhirContent('#/components/schemas/OperationOutcome') };
  responses['500'] = { description: 'unexpected failure (logged without content)', content: fhirContent('#/components/schemas/OperationOutcome') };
  return {
    summary: summaryOf(method, route.path),
    operationId: `${method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+/g, '_')}`,
    // hapi keeps `auth: false` as false in the route's settings.
    ...((settings.auth as unknown) === false ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(takesBody ? { requestBody: { required: true, content: fhirContent('#/components/schemas/Resource') } } : {}),
    responses,
  };
}

/**
 * OpenAPI 3.0 description of every route of a built server, from its route table: path and
 * query parameters from the routes' own joi schemas, FHIR bodies and answers, an
 * OperationOutcome for every error status, and the bearer scheme (routes without a token say so).
 */
export function openApiDocument(server: Server, config: NodeConfig): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of server.table()) {
    const method = String(route.method);
    if (method === '*' || method === 'head' || method === 'options') continue;
    const operation = operationalOperation(route) ?? (route.path.startsWith('/fhir/') ? fhirOperation(route) : undefined);
    if (!operation) continue;
    (paths[route.path] ??= {})[route.method] = operation;
  }
  const origin = new URL(config.baseUrl);
  return {
    openapi: '3.0.3',
    info: {
      title: `Pontis National Contact Point (${config.country})`,
      version: SOFTWARE_VERSION,
      description: 'FHIR R4 API of a Pontis node (IPS exchange between Member States). Errors are FHIR OperationOutcomes; /fhir/metadata is the CapabilityStatement.',
    },
    servers: [{ url: `${origin.origin}` }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "IHE IUA token from an issuer in the node's trust list, with SMART v2 scopes; each token is accepted once" } },
      schemas: {
        Resource: { type: 'object', required: ['resourceType'], properties: { resourceType: { type: 'string' }, id: { type: 'string' } }, additionalProperties: true },
        OperationOutcome: {
          type: 'object',
          required: ['resourceType', 'issue'],
          properties: {
            resourceType: { type: 'string', enum: ['OperationOutcome'] },
            issue: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                required: ['severity', 'code'],
                properties: {
                  severity: { type: 'string', enum: ['fatal', 'error', 'warning', 'information'] },
                  code: { type: 'string' },
                  diagnostics: { type: 'string' },
                  expression: { type: 'array', items: { type: 'string', minLength: 1 } },
                },
              },
            },
          },
        },
      },
    },
    paths,
  };
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A plain page of the description for people: each path, method, summary and parameters. */
function renderHtml(document: Record<string, unknown>): string {
  const paths = document['paths'] as Record<string, Record<string, { summary?: string; security?: unknown[]; parameters?: { name: string; in: string; required?: boolean; schema?: Schema }[] }>>;
  const rows = Object.entries(paths)
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => {
        const params = (op.parameters ?? []).map((p) => `${p.name} (${p.in}${p.required ? ', required' : ''})`).join(', ');
        return `<tr><td>${method.toUpperCase()}</td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(op.summary ?? '')}</td><td>${escapeHtml(params)}</td><td>${op.security?.length === 0 ? 'none' : 'bearer'}</td></tr>`;
      }),
    )
    .join('\n');
  const info = document['info'] as { title: string; version: string; description: string };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.title)}: API</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}</style></head>
<body><h1>${escapeHtml(info.title)}</h1><p>${escapeHtml(info.description)} Version ${escapeHtml(info.version)}. Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>Parameters</th><th>Token</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>
`;
}

/**
 * `GET /openapi.json` (OpenAPI 3.0 of every route, built once from the route table on first
 * request), and in demo mode (NODE_ENV other than production) `GET /openapi.html` for people.
 */
export function openApiRoutes(server: Server, config: NodeConfig): ServerRoute[] {
  let document: Record<string, unknown> | undefined;
  const build = () => (document ??= openApiDocument(server, config));
  const routes: ServerRoute[] = [
    {
      method: 'GET',
      path: '/openapi.json',
      options: { auth: false },
      handler: (_request, h) => h.response(build()).type('application/json'),
    },
  ];
  if (config.environment !== 'production') {
    routes.push({
      method: 'GET',
      path: '/openapi.html',
      options: { auth: false },
      handler: (_request, h) => h.response(renderHtml(build())).type('text/html; charset=utf-8').header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'"),
    });
  }
  return routes;
}
