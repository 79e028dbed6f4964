import type { ServerRoute } from '@hapi/hapi';
import type { OperationDefinition, Parameters, ParametersParameter } from 'fhir/r4.js';
import Joi from 'joi';
import { CHECKPOINT_PARAMETER, type CheckpointWitness } from '../audit/checkpoint-witness.js';
import { CHAIN_NAME } from '../audit/audit-checkpoint.js';
import { fhirError } from '../fhir/operation-outcome.js';
import { parseResourceBody } from '../fhir/resource-body.js';
import { accessContextOf } from '../plugins/authentication.js';
import { failAction, fhirJsonPayload, querySchema } from './validation.js';

/** A signed checkpoint is a few hundred bytes; its Parameters wrapper little more. */
const MAX_CHECKPOINT_BODY_BYTES = 16 * 1024;

/** Most heads per page of `$audit-heads`. */
export const MAX_HEADS_PER_PAGE = 1000;

const PONTIS_OPERATIONS = 'https://pontis.example.eu/fhir/OperationDefinition';

/** `$audit-checkpoint`: a peer node hands over its signed audit chain head to be witnessed. */
export const auditCheckpointOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'audit-checkpoint',
  url: `${PONTIS_OPERATIONS}/audit-checkpoint`,
  name: 'AuditCheckpoint',
  title: 'Witness an audit checkpoint',
  status: 'active',
  kind: 'operation',
  affectsState: true,
  code: 'audit-checkpoint',
  system: true,
  type: false,
  instance: false,
  description:
    "A peer node's signed head of one of its audit hash chains (a compact JWS), kept by this node as its witness (insert-only); a different head for a position already witnessed is kept as evidence and answered 409. For peer-node tokens in the node's own name only.",
  parameter: [
    { name: 'checkpoint', use: 'in', min: 1, max: '1', type: 'string', documentation: 'the signed checkpoint, a compact JWS of the peer node (typ pontis-audit-checkpoint)' },
    { name: 'outcome', use: 'out', min: 1, max: '1', type: 'code', documentation: 'new (witnessed now) or known (the same head was witnessed before)' },
  ],
};

/** `$audit-heads`: a peer node reads back the heads this node witnessed for it. */
export const auditHeadsOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'audit-heads',
  url: `${PONTIS_OPERATIONS}/audit-heads`,
  name: 'AuditHeads',
  title: 'Audit heads witnessed for the caller',
  status: 'active',
  kind: 'operation',
  affectsState: false,
  code: 'audit-heads',
  system: true,
  type: false,
  instance: false,
  description:
    "Every audit chain head this node witnessed for the calling peer node, and any contradicting head it received (equivocation), a page at a time; for `pontis audit verify` at the peer. For peer-node tokens in the node's own name only.",
  parameter: [
    { name: 'after', use: 'in', min: 0, max: '1', type: 'string', documentation: 'the cursor named by the previous page (next)' },
    { name: '_count', use: 'in', min: 0, max: '1', type: 'integer', documentation: `most heads per page (default and at most ${MAX_HEADS_PER_PAGE})` },
    { name: 'head', use: 'out', min: 0, max: '*', type: 'string', documentation: 'a witnessed signed checkpoint (compact JWS)' },
    {
      name: 'equivocation',
      use: 'out',
      min: 0,
      max: '*',
      documentation: 'a head contradicting one witnessed for the same position',
      part: [
        { name: 'witnessed', use: 'out', min: 1, max: '1', type: 'string' },
        { name: 'contradicting', use: 'out', min: 1, max: '1', type: 'string' },
      ],
    },
    { name: 'next', use: 'out', min: 0, max: '1', type: 'string', documentation: 'cursor of the next page, when there is one' },
  ],
};

const checkpointBody = Joi.object({
  resourceType: Joi.string().valid('Parameters').required(),
  id: Joi.string(),
  parameter: Joi.array()
    .items(Joi.object({ name: Joi.string().valid('checkpoint').required(), valueString: Joi.string().max(8192).required() }))
    .length(1)
    .required(),
});

/** Cursor of `$audit-heads`: the `<chain>:<seq, zero-padded>` of the last head of a page. */
const cursor = Joi.string().pattern(new RegExp(`^${CHAIN_NAME.source.slice(1, -1)}:\\d{12}$`)).message('"after" must be the cursor a previous page named');

/**
 * Witnessing of audit trails between peer nodes (docs/security.md, "Anchoring the audit trail"):
 * `POST /fhir/$audit-checkpoint` takes a peer's signed checkpoint (a Parameters with one
 * `checkpoint` valueString, a compact JWS), `GET /fhir/$audit-heads` gives a peer back every
 * head witnessed for it. Both need a peer-node token in the node's own name; neither touches
 * patient data, so neither is audited (a witness auditing its witnessing would checkpoint forever).
 */
export function auditWitnessRoutes(witness: CheckpointWitness): ServerRoute[] {
  return [
    {
      method: 'POST',
      path: '/fhir/$audit-checkpoint',
      // Chain heads (hashes), no patient data; a witness auditing its witnessing would checkpoint forever.
      options: { payload: fhirJsonPayload(MAX_CHECKPOINT_BODY_BYTES), plugins: { pontis: { audit: false } }, validate: { query: querySchema({}), failAction } },
      async handler(request, h) {
        const body = parseResourceBody(request.payload, 'Parameters');
        const { error } = checkpointBody.validate(body);
        if (error) throw fhirError(400, { code: 'invalid', expression: CHECKPOINT_PARAMETER, message: `the body must be a Parameters with one "checkpoint" valueString: ${error.message}` });
        const jws = body.parameter![0]!.valueString!;
        const access = accessContextOf(request);
        const outcome = await witness.receive(jws, access.requester, access.requestId);
        const answer: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'outcome', valueCode: outcome }] };
        return h.response(answer);
      },
    },
    {
      method: 'GET',
      path: '/fhir/$audit-heads',
      options: {
        plugins: { pontis: { audit: false } },
        validate: { query: querySchema({ after: cursor, _count: Joi.number().integer().min(1).max(MAX_HEADS_PER_PAGE).default(MAX_HEADS_PER_PAGE) }), failAction },
      },
      async handler(request, h) {
        const access = accessContextOf(request);
        const page = await witness.witnessedFor(access.requester, request.query['after'] as string | undefined, request.query['_count'] as number);
        const parameter: ParametersParameter[] = [
          ...page.heads.map((head) => ({ name: 'head', valueString: head.jws })),
          ...page.equivocations.map((e) => ({
            name: 'equivocation',
            part: [
              { name: 'witnessed', valueString: e.witnessedJws },
              { name: 'contradicting', valueString: e.jws },
            ],
          })),
          ...(page.next === undefined ? [] : [{ name: 'next', valueString: page.next }]),
        ];
        const answer: Parameters = { resourceType: 'Parameters', ...(parameter.length > 0 ? { parameter } : {}) };
        return h.response(answer);
      },
    },
  ];
}
