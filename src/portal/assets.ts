import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ServerRoute } from '@hapi/hapi';
import { projectRoot } from '../project-root.js';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * GOV.UK Frontend's compiled stylesheet without its typeface: GDS Transport is licensed to
 * GOV.UK services only, so its `@font-face` rules go and the system fallback (Arial) is used.
 */
function designSystemStylesheet(): string {
  const require = createRequire(import.meta.url);
  const css = readFileSync(require.resolve('govuk-frontend/dist/govuk/govuk-frontend.min.css'), 'utf8');
  return css.replace(/@font-face\{[^}]*\}/g, '').replace(/"GDS Transport",|GDS Transport,/g, '');
}

function asset(body: string, type: string): Asset {
  const bytes = Buffer.from(body, 'utf8');
  return { body: bytes, type, etag: createHash('sha256').update(bytes).digest('base64url').slice(0, 20) };
}

/** Static files of the portal, served from memory with a validator (they change only with a release). */
export function assetRoutes(): ServerRoute[] {
  const folder = join(projectRoot(), 'src', 'portal', 'assets');
  const assets = new Map<string, Asset>([
    ['govuk-frontend.css', asset(designSystemStylesheet(), 'text/css; charset=utf-8')],
    ['portal.css', asset(readFileSync(join(folder, 'portal.css'), 'utf8'), 'text/css; charset=utf-8')],
    ['portal.js', asset(readFileSync(join(folder, 'portal.js'), 'utf8'), 'text/javascript; charset=utf-8')],
  ]);
  return [
    {
      method: 'GET',
      path: '/assets/{name}',
      options: { auth: false, plugins: { crumb: false } },
      handler(request, h) {
        const found = assets.get(request.params['name'] as string);
        if (!found) return h.response('not found').code(404).type('text/plain');
        return h.response(found.body).type(found.type).etag(found.etag).header('Cache-Control', 'public, max-age=3600');
      },
    },
  ];
}
