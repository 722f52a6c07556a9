import type { Test } from 'supertest';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Every page of a list over HTTP, first to last: `get` requests `url` with `limit` and each next
 * `cursor` (200 expected), each page checked to hold at most `limit` items. A list that never ends
 * fails after `maxPages`.
 */
export async function allPages<T>(get: (url: string) => Test, url: string, limit: number, maxPages = 100): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  do {
    if (pages.length === maxPages) throw new Error(`${url}: more than ${maxPages} pages`);
    const sep = url.includes('?') ? '&' : '?';
    const page: Page<T> = (await get(`${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).expect(200))
      .body;
    expect(page.items.length).toBeLessThanOrEqual(limit);
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return pages;
}
