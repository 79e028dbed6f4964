import { randomUUID } from 'node:crypto';
import Boom from '@hapi/boom';
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { loggableError } from '../../logger.js';
import { personOf, SignInRefused, type PendingSignIn } from '../oidc-relying-party.js';
import { languageOf, seeOther, SIGN_IN_COOKIE, textOf, type PortalContext } from '../portal-context.js';
import type { PortalSession } from '../session.js';

/** A sign-in not completed within this time is refused (the cookie itself lasts as long). */
const SIGN_IN_MAX_MS = 10 * 60_000;

/** Where a signed-in person starts. */
export function startPageOf(session: PortalSession): string {
  return session.person.kind === 'clinician' ? '/clinician/find' : '/patient';
}

/** The start page, sign-in through the identity provider, its return, and sign-out. */
export function signInRoutes(ctx: PortalContext): ServerRoute[] {
  return [
    {
      method: 'GET',
      path: '/',
      options: {
        auth: { mode: 'try' },
        validate: { query: Joi.object({ expired: Joi.valid('1'), signedout: Joi.valid('1') }) },
      },
      handler(request, h) {
        if (request.auth.isAuthenticated) return seeOther(h, startPageOf(request.auth.credentials as unknown as PortalSession));
        return h.view('home', { title: textOf(request, 'home_title'), expired: request.query['expired'] === '1', signedOut: request.query['signedout'] === '1' });
      },
    },
    {
      method: 'GET',
      path: '/signin',
      options: { auth: false },
      async handler(request, h) {
        let started;
        try {
          started = await ctx.relyingParty.start(languageOf(request));
        } catch (error) {
          ctx.logger.warn({ err: loggableError(error) }, 'portal: identity provider unreachable');
          throw Boom.badGateway('idp-unreachable');
        }
        return h.redirect(started.url).code(303).state(SIGN_IN_COOKIE, started.pending);
      },
    },
    {
      method: 'GET',
      path: '/auth/callback',
      options: { auth: false },
      async handler(request, h) {
        const pending = request.state[SIGN_IN_COOKIE] as PendingSignIn | undefined;
        if (!pending?.state || Date.now() - pending.at > SIGN_IN_MAX_MS) throw Boom.badRequest('sign-in');
        let session: PortalSession;
        try {
          const claims = await ctx.relyingParty.finish(request.url.search, pending);
          const now = Date.now();
          session = { sid: randomUUID(), person: personOf(claims, ctx.country), started: now, seen: now };
        } catch (error) {
          // The reason is logged by kind only: an ID token or code never reaches a log.
          ctx.logger.warn({ err: loggableError(error), refused: error instanceof SignInRefused }, 'portal: sign-in refused');
          throw Boom.badRequest('sign-in');
        }
        request.cookieAuth.set(session as never);
        return seeOther(h, startPageOf(session)).unstate(SIGN_IN_COOKIE);
      },
    },
    {
      method: 'POST',
      path: '/signout',
      options: { auth: { mode: 'try' } },
      handler(request, h) {
        if (request.auth.isAuthenticated) ctx.signedOut.end(request.auth.credentials as unknown as PortalSession);
        request.cookieAuth.clear();
        return seeOther(h, '/?signedout=1');
      },
    },
  ];
}
