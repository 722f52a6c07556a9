import { AppError } from '../../common/errors';
import { assertAcceptablePassword, passwordProblem } from './password.policy';

describe('password policy', () => {
  it('accepts 8 to 128 characters with no composition rules', () => {
    expect(passwordProblem('plumtreeorbit')).toBeUndefined();
    expect(passwordProblem('x'.repeat(7) + 'q')).toBeUndefined();
    expect(passwordProblem('ab3k9zq'.padEnd(128, 'w'))).toBeUndefined();
  });

  it('rejects fewer than 8 and more than 128 characters', () => {
    expect(passwordProblem('k3m9zq7')).toMatch(/at least 8/);
    expect(passwordProblem('ab3k9zq'.padEnd(129, 'w'))).toMatch(/at most 128/);
  });

  it('counts characters, not UTF-16 code units', () => {
    // 7 emoji are 14 UTF-16 units but 7 characters: too short.
    expect(passwordProblem('🦊🦊🦊🦊🦊🦊🦊')).toMatch(/at least 8/);
    // 100 emoji are 200 UTF-16 units but 100 characters: fine.
    expect(passwordProblem('🦊'.repeat(100))).toBeUndefined();
  });

  it('rejects passwords from the common list whatever their case', () => {
    expect(passwordProblem('password')).toMatch(/too common/);
    expect(passwordProblem('Iloveyou')).toMatch(/too common/);
    expect(passwordProblem('12345678')).toMatch(/too common/);
    expect(passwordProblem('qwertyuiop')).toMatch(/too common/);
  });

  it('normalizes (NFKC) before checking the list', () => {
    // Full-width letters normalize to "password".
    expect(passwordProblem('ｐａｓｓｗｏｒｄ')).toMatch(/too common/);
  });

  it('throws VALIDATION_FAILED naming the field', () => {
    let caught: unknown;
    try {
      assertAcceptablePassword('abc', 'newPassword');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('VALIDATION_FAILED');
    expect((caught as AppError).errors?.[0].field).toBe('newPassword');
  });
});
