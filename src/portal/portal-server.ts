import Boom from '@hapi/boom';
import Cookie from '@hapi/cookie';
import Crumb from '@hapi/crumb';
import Hapi, { type Request, type ServerRoute } from '@hapi/hapi';
import Inert from '@hapi/inert';
import Vision from '@hapi/vision';
import Handlebars from 'handlebars';
import { join } from 'node:path';
import { loggableError } from '../logger.js';
import { projectRoot } from '../project-root.js';
import { assetRoutes } from './assets.js';
import { chooseLanguage, Formats, isPortalLanguage, messagesOf, PORTAL_LANGUAGES, translate, type PortalLanguage } from './i18n.js';
import type { MessageKey } from './i18n/en.js';
import { clinicianRoutes } from './routes/clinician.js';
import { patientRoutes } from './routes/patient.js';
import { signInRoutes } from './routes/sign-in.js';
import { CONTENT_SECURITY_POLICY, CRUMB_COOKIE, LANGUAGE_COOKIE, SESSION_COOKIE, SIGN_IN_COOKIE, languageOf, textOf, type PortalContext } from './portal-context.js';
import { SESSION_MAX_AGE_MS, type PortalSession } from './session.js';

export { CONTENT_SECURITY_POLICY, CRUMB_COOKIE, LANGUAGE_COOKIE, SESSION_COOKIE, SIGN_IN_COOKIE, languageOf, seeOther, textOf, type PortalContext } from './portal-context.js';

function templateEngine(): typeof Handlebars {
  const engine = Handlebars.create();
  type Options = Handlebars.HelperOptions;
  const root = (options: Options) => options.data.root as { lang: PortalLanguage; formats: Formats };
  engine.registerHelper('t', (key: string, options: Options) => translate(root(options).lang, key as MessageKey, options.hash as Record<string, unknown>));
  engine.registerHelper('date', (value: string | undefined, options: Options) => root(options).formats.date(value));
  engine.registerHelper('languageName', (tag: string | undefined, options: Options) => root(options).formats.languageName(tag));
  engine.registerHelper('countryName', (code: string | undefined, options: Options) => root(options).formats.countryName(code));
  engine.registerHelper('roleName', (code: string | undefined, options: Options) => {
    if (!code) return '';
    const key = `role_${code}` as MessageKey;
    return key in messagesOf('en') ? translate(root(options).lang, key) : `ISCO-08 ${code}`;
  });
  engine.registerHelper('purposeName', (code: string | undefined, options: Options) => {
    if (!code) return '';
    const key = `purpose_${code}` as MessageKey;
    return key in messagesOf('en') ? translate(root(options).lang, key) : code;
  });
  const named = (prefix: string) => (code: string | undefined, options: Options) => {
    if (!code) return '';
    const key = `${prefix}${code}` as MessageKey;
    return key in messagesOf('en') ? translate(root(options).lang, key) : code;
  };
  engine.registerHelper('genderName', named('gender_'));
  engine.registerHelper('statusName', named('status_'));
  engine.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  engine.registerHelper('includes', (list: unknown, item: unknown) => Array.isArray(list) && list.includes(item));
  return engine;
}

/** The message shown for an error page, from the error's status and reason. */
function errorMessage(error: Boom.Boom): MessageKey {
  const status = error.output.statusCode;
  if (status === 404) return 'error_not_found';
  if (status === 403 && error.message === 'clinicians-only') return 'error_clinicians_only';
  if (status === 403 && error.message === 'patients-only') return 'error_patients_only';
  // @hapi/crumb refuses a form without its crumb with a bare 403.
  if (status === 403) return 'error_form_expired';
  if (status === 502 && error.message === 'idp-unreachable') return 'error_idp_unreachable';
  if (status === 400 && error.message === 'sign-in') return 'error_sign_in';
  if (status === 400) return 'error_not_found';
  return 'refusal_unexpected';
}

/**
 * Builds (without starting) the portal's HTTP server: server-rendered pages (@hapi/vision,
 * Handlebars) styled with GOV.UK Frontend served from this node, an encrypted session cookie
 * (@hapi/cookie: httpOnly, SameSite=Lax, Secure over https) with an idle timeout, a CSRF crumb on
 * every form (@hapi/crumb), and security headers on every answer (CSP without inline script or
 * style, frame-ancestors none, no referrer, no caching of pages).
 */
export async function createPortalServer(ctx: PortalContext, options: { host: string; port: number; cookiePassword: string; idleTimeoutMs: number }): Promise<Hapi.Server> {
  const secure = ctx.url.startsWith('https:');
  const server = Hapi.server({
    host: options.host,
    port: options.port,
    router: { stripTrailingSlash: true },
    routes: {
      security: { xframe: 'deny', noSniff: true, referrer: 'no-referrer', hsts: secure ? { maxAge: 31536000, includeSubDomains: true } : false, xss: 'disabled', noOpen: true },
      payload: { maxBytes: 16 * 1024 },
    },
    state: { strictHeader: false, ignoreErrors: true },
    compression: { minBytes: 1024 },
    debug: false,
  });
  await server.register([{ plugin: Inert.plugin }, { plugin: Vision.plugin }, { plugin: Cookie.plugin }]);
  await server.register({
    plugin: Crumb.plugin,
    // Lax like the session: the page an identity provider's redirect lands on must see it. Routes
    // without forms (assets, not found) are skipped entirely: with crumb's auto-generation they would
    // otherwise set a new crumb on every stylesheet, and the form on the page would no longer match.
    options: {
      key: CRUMB_COOKIE,
      cookieOptions: { isSecure: secure, isHttpOnly: true, isSameSite: 'Lax', path: '/' },
      restful: false,
      skip: (request: Request) => request.route.settings.plugins?.crumb === false,
    },
  });
  server.state(LANGUAGE_COOKIE, { isSecure: secure, isHttpOnly: true, isSameSite: 'Lax', path: '/', ttl: 365 * 24 * 3600_000, encoding: 'none', clearInvalid: true, strictHeader: true });
  server.state(SIGN_IN_COOKIE, { isSecure: secure, isHttpOnly: true, isSameSite: 'Lax', path: '/', ttl: 10 * 60_000, encoding: 'iron', password: options.cookiePassword, clearInvalid: true, ignoreErrors: true });

  server.auth.strategy('session', 'cookie', {
    cookie: { name: SESSION_COOKIE, password: options.cookiePassword, isSecure: secure, isHttpOnly: true, isSameSite: 'Lax', path: '/', clearInvalid: true, ttl: null },
    validate: async (_request: Request, session: PortalSession) => {
      const now = Date.now();
      const valid =
        typeof session?.sid === 'string' &&
        !!session.person &&
        !ctx.signedOut.has(session.sid) &&
        now - session.seen <= options.idleTimeoutMs &&
        now - session.started <= SESSION_MAX_AGE_MS;
      return valid ? { isValid: true, credentials: session as never } : { isValid: false };
    },
  });
  server.auth.default('session');

  // Language: a switch link (?lang=xx) sets the cookie and comes back without it; else cookie, else browser.
  server.ext('onPreAuth', (request, h) => {
    const asked = request.query['lang'];
    if (request.method === 'get' && asked !== undefined) {
      const back = new URL(request.url.href);
      back.searchParams.delete('lang');
      // Back to this site only: a path of several leading slashes would be another host's URL.
      const response = h.redirect(`/${back.pathname.replace(/^[/\\]+/, '')}${back.search}`).code(303);
      if (isPortalLanguage(asked)) response.state(LANGUAGE_COOKIE, asked);
      return response.takeover();
    }
    request.app.portalLanguage = chooseLanguage(request.state[LANGUAGE_COOKIE], request.headers['accept-language'] as string | undefined);
    return h.continue;
  });
  // Each request of a signed-in person moves the idle timeout on.
  server.ext('onPostAuth', (request, h) => {
    if (request.auth.isAuthenticated && request.auth.strategy === 'session') request.cookieAuth.set('seen', Date.now());
    return h.continue;
  });

  const root = projectRoot();
  server.views({
    engines: { hbs: templateEngine() },
    relativeTo: join(root, 'src', 'portal', 'views'),
    path: '.',
    layout: true,
    layoutPath: 'layouts',
    partialsPath: 'partials',
    isCached: true,
    context: (request: Request | null) => {
      const lang = request ? languageOf(request) : 'en';
      const session = request?.auth.isAuthenticated ? (request.auth.credentials as unknown as PortalSession) : undefined;
      const path = request?.path ?? '/';
      return {
        lang,
        formats: Formats.of(lang),
        person: session?.person,
        clinician: session?.person.kind === 'clinician',
        patient: session?.person.kind === 'patient',
        country: ctx.country,
        demo: ctx.demo,
        path,
        languages: PORTAL_LANGUAGES.map((l) => ({ ...l, current: l.code === lang, href: `${path}?lang=${l.code}` })),
      };
    },
  });

  // One line per request, as the node's own: route pattern, status, time; never a path, query or cookie.
  server.events.on('response', (request) => {
    const status = Boom.isBoom(request.response) ? request.response.output.statusCode : request.response?.statusCode;
    ctx.logger.info({ portal: true, method: request.method, route: request.route.path, status, ms: Date.now() - request.info.received }, 'portal request');
  });

  server.ext('onPreResponse', (request, h) => {
    const response = request.response;
    if (Boom.isBoom(response)) {
      const status = response.output.statusCode;
      if (status === 401) {
        // Not signed in, or the session ended (idle, signed out): back to the start page.
        const hadSession = typeof request.headers['cookie'] === 'string' && request.headers['cookie'].includes(`${SESSION_COOKIE}=`);
        return h.redirect(hadSession ? '/?expired=1' : '/').code(303).unstate(SESSION_COOKIE);
      }
      if (status >= 500) ctx.logger.error({ err: loggableError(response) }, 'portal: unexpected error');
      return withSecurityHeaders(h.view('error', { title: textOf(request, 'error_title'), message: textOf(request, errorMessage(response)) }).code(status), true);
    }
    return withSecurityHeaders(response, !request.path.startsWith('/assets/'));
  });

  const notFound: ServerRoute = {
    method: '*',
    path: '/{any*}',
    options: { auth: { mode: 'try' }, plugins: { crumb: false } },
    handler: () => Boom.notFound(),
  };
  const routes: ServerRoute[] = [...assetRoutes(), ...signInRoutes(ctx), ...clinicianRoutes(ctx), ...patientRoutes(ctx), notFound];
  server.route(routes);
  return server;
}

type Decorated = { header(name: string, value: string): unknown };

function withSecurityHeaders<T>(response: T, page: boolean): T {
  const r = response as unknown as Decorated;
  r.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  r.header('Cross-Origin-Opener-Policy', 'same-origin');
  r.header('Cross-Origin-Resource-Policy', 'same-origin');
  r.header('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  // Pages hold patient data: never kept by the browser or a proxy.
  if (page) r.header('Cache-Control', 'no-store');
  return response;
}
