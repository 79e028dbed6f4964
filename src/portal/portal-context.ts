import type { Request, ResponseToolkit } from '@hapi/hapi';
import type { Logger } from 'pino';
import type { PeerDirectory } from '../exchange/peer-directory.js';
import { translate, type PortalLanguage } from './i18n.js';
import type { MessageKey } from './i18n/en.js';
import type { NodeApi } from './node-api.js';
import type { OidcRelyingParty } from './oidc-relying-party.js';
import type { SignedOutSessions } from './session.js';

declare module '@hapi/hapi' {
  interface RequestApplicationState {
    /** Language of the portal page being answered. */
    portalLanguage?: PortalLanguage;
  }
  interface Request {
    /** @hapi/cookie: the session cookie of this request. */
    cookieAuth: {
      set(session: object): void;
      set(key: string, value: unknown): void;
      clear(key?: string): void;
      ttl(milliseconds: number): void;
    };
  }
  interface PluginSpecificConfiguration {
    /** @hapi/crumb: false leaves the route out of crumb generation and checking. */
    crumb?: false;
  }
}

/** What the portal's pages are built from. */
export interface PortalContext {
  /** This node's country. */
  country: string;
  /** Public base URL of the portal (no trailing slash). */
  url: string;
  api: NodeApi;
  relyingParty: OidcRelyingParty;
  /** The Member States a clinician may look a patient up in (this one included). */
  directory: PeerDirectory | undefined;
  /** The node's consent default, to tell a patient without a Consent what applies. */
  consentDefault: 'opt-in' | 'opt-out';
  /** A demo set-up (demo trust list): the pages say so. */
  demo: boolean;
  signedOut: SignedOutSessions;
  /** The issuer of the tokens the portal mints (to recognise the patient's own lines in the log). */
  tokenIssuer: string;
  logger: Logger;
}

/** Names of the portal's cookies. */
export const SESSION_COOKIE = 'pontis_session';
export const LANGUAGE_COOKIE = 'pontis_lang';
export const SIGN_IN_COOKIE = 'pontis_signin';
export const CRUMB_COOKIE = 'pontis_crumb';

/** Content-Security-Policy of every portal response: own scripts and styles only, never framed. */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The language of a portal request. */
export function languageOf(request: Request): PortalLanguage {
  return request.app.portalLanguage ?? 'en';
}

/** The portal's text of `key` in the request's language. */
export function textOf(request: Request, key: MessageKey, values?: Record<string, unknown>): string {
  return translate(languageOf(request), key, values);
}

/** A redirect after a form (303, so the browser GETs the next page). */
export function seeOther(h: ResponseToolkit, location: string) {
  return h.redirect(location).code(303);
}
