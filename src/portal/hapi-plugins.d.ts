// Types of @hapi/cookie 12 and @hapi/crumb 9, which ship none: each module exports `plugin`.
declare module '@hapi/cookie' {
  import type { Plugin } from '@hapi/hapi';
  const cookie: { plugin: Plugin<void> };
  export default cookie;
}

declare module '@hapi/crumb' {
  import type { Plugin } from '@hapi/hapi';
  const crumb: { plugin: Plugin<Record<string, unknown>> };
  export default crumb;
}
