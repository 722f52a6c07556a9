/** How admins name the admins' own hold (stored without a reference). */
export const ADMIN_HOLD = 'admin';

/** A system hold's reference: `<kind>:<id>`, e.g. `dispute:dp_123` (account_holds checks the same pattern). */
export const SYSTEM_HOLD_REFERENCE = /^[a-z][a-z_]*:[!-~]{1,255}$/;
