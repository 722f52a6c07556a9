import { PasswordHasherService } from './password-hasher.service';

// The module object the service calls into (a namespace import would be a copy the spies miss).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const argon2 = require('argon2') as typeof import('argon2');

describe('PasswordHasherService', () => {
  afterEach(() => jest.restoreAllMocks());

  it('hashes with argon2id and verifies, whatever the Unicode normalization of the input', async () => {
    const h = new PasswordHasherService();
    const digest = await h.hash('pässwörd-🦊');
    expect(digest).toMatch(/^\$argon2id\$/);
    expect(await h.verify(digest, 'pa\u0308sswo\u0308rd-🦊')).toBe(true);
    expect(await h.verify(digest, 'passwörd-🦊')).toBe(false);
    expect(await h.verify('not-a-hash', 'x')).toBe(false);
  });

  it('prepares the dummy hash at startup: the first unknown email costs one verification, no extra hash', async () => {
    const h = new PasswordHasherService();
    await h.onModuleInit();
    const hash = jest.spyOn(argon2, 'hash');
    const verify = jest.spyOn(argon2, 'verify');
    expect(await h.verify(undefined, 'any-password')).toBe(false);
    expect(hash).not.toHaveBeenCalled();
    expect(verify).toHaveBeenCalledTimes(1);
  });
});
