import { randomBytes } from 'node:crypto';
import { SecretBoxService } from './secret-box.service';

describe('SecretBox (AES-256-GCM)', () => {
  const box = new SecretBoxService(randomBytes(32));

  it('round-trips, with a fresh IV every time', () => {
    const a = box.seal('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'user-1');
    const b = box.seal('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'user-1');
    expect(a.equals(b)).toBe(false);
    expect(box.open(a, 'user-1')).toBe('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    expect(a.toString('latin1')).not.toContain('JBSWY3DP');
  });

  it('refuses another context, another key and any tampering', () => {
    const sealed = box.seal('secret', 'user-1');
    expect(() => box.open(sealed, 'user-2')).toThrow();
    expect(() => new SecretBoxService(randomBytes(32)).open(sealed, 'user-1')).toThrow();
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1] ^= 1;
    expect(() => box.open(flipped, 'user-1')).toThrow();
    expect(() => box.open(sealed.subarray(0, 10), 'user-1')).toThrow();
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretBoxService(randomBytes(16))).toThrow();
  });
});
