import type { Request } from '@hapi/hapi';

/** A request header as one string (repeated headers joined by ", "), or undefined. */
export function headerOf(request: Request, name: string): string | undefined {
  const value: unknown = request.headers[name.toLowerCase()];
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.join(', ');
  return undefined;
}
