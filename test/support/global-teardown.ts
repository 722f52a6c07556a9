export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __bazaarPg?: { stop(): Promise<void> } }).__bazaarPg?.stop();
}
