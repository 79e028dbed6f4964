import { randomUUID } from 'node:crypto';
import type { Server } from '@hapi/hapi';
import type { Resource } from 'fhir/r4.js';
import { isResource } from '../fhir/resources.js';
import type { ClinicalPurpose, PortalTokenSigner } from './portal-tokens.js';
import type { SignedInPerson } from './session.js';

/** What the node answered a portal call. */
export interface NodeAnswer {
  status: number;
  /** The resource answered (the result, or an OperationOutcome); undefined when the body is none. */
  body: Resource | undefined;
  headers: Record<string, string>;
}

/** Who a call is made for: a clinician for a purpose, or a patient for themselves. */
export type Caller = { person: SignedInPerson; purpose: ClinicalPurpose } | { person: SignedInPerson; purpose?: undefined };

/**
 * The node's FHIR API as the portal uses it: every call goes through the node's own request
 * lifecycle (`server.inject`: authentication of a token minted for the signed-in person, scopes,
 * request budget, consent decision, validation of what leaves, audit record), exactly as a call
 * over HTTP would, without a socket. There is no other way for the portal to reach patient data.
 */
export class NodeApi {
  constructor(
    private readonly server: Server,
    private readonly tokens: PortalTokenSigner,
    /** Path of the FHIR base on the node (`/fhir`). */
    private readonly basePath: string,
  ) {}

  private token(caller: Caller): Promise<string> {
    return caller.person.kind === 'patient' ? this.tokens.patient(caller.person) : this.tokens.clinician(caller.person, caller.purpose ?? { purpose: 'TREAT' });
  }

  /** `GET <base>/<path>?<query>` as `caller`, in `language` when given. */
  async get(path: string, query: Record<string, string | undefined>, caller: Caller, language?: string): Promise<NodeAnswer> {
    return this.call('GET', path, query, caller, undefined, { ...(language ? { 'accept-language': language } : {}) });
  }

  /** `POST` or `PUT` of a resource as `caller`. */
  async write(method: 'POST' | 'PUT', path: string, resource: Resource, caller: Caller, ifMatch?: string): Promise<NodeAnswer> {
    return this.call(method, path, {}, caller, resource, { 'content-type': 'application/fhir+json', prefer: 'return=representation', ...(ifMatch ? { 'if-match': ifMatch } : {}) });
  }

  private async call(method: string, path: string, query: Record<string, string | undefined>, caller: Caller, payload: Resource | undefined, extra: Record<string, string>): Promise<NodeAnswer> {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') search.set(k, v);
    const qs = search.toString();
    const response = await this.server.inject({
      method,
      url: `${this.basePath}/${path}${qs ? `?${qs}` : ''}`,
      headers: { authorization: `Bearer ${await this.token(caller)}`, accept: 'application/fhir+json', 'x-request-id': randomUUID(), ...extra },
      ...(payload ? { payload: JSON.stringify(payload) } : {}),
    });
    // Where the node's answer enters the portal as JSON, and becomes a FHIR type.
    let body: Resource | undefined;
    try {
      const parsed: unknown = response.payload ? JSON.parse(response.payload) : undefined;
      body = isResource(parsed) ? parsed : undefined;
    } catch {
      body = undefined;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(response.headers)) if (v !== undefined) headers[k.toLowerCase()] = String(v);
    return { status: response.statusCode, body, headers };
  }
}
