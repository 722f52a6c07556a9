import { dropTemplate, TestRun } from './test-db';

export default async function globalTeardown(): Promise<void> {
  const pg = (globalThis as TestRun).__bazaarPg;
  if (pg) await pg.stop();
  else await dropTemplate();
}
