import Joi from 'joi';

/** `_summary=count`: the total only, no entries (every search accepts it). */
export const summaryCountParam = Joi.string().valid('count').messages({ 'any.only': '"_summary" supports only count here' });

/** `_offset`: how many matches to skip (paging). */
export const offsetParam = (max: number) => Joi.number().integer().min(0).max(max).default(0);

/**
 * The links of one page of a searchset: `self`, and `next`/`previous` where there are more
 * matches after or before it. `pageUrl(offset)` writes the search with that `_offset`.
 */
export function pagingLinks(pageUrl: (offset: number) => string, offset: number, count: number, shown: number, total: number): { relation: string; url: string }[] {
  const links = [{ relation: 'self', url: pageUrl(offset) }];
  if (count > 0 && offset + shown < total) links.push({ relation: 'next', url: pageUrl(offset + count) });
  if (offset > 0 && count > 0) links.push({ relation: 'previous', url: pageUrl(Math.max(0, offset - count)) });
  return links;
}
