/** How admins name the admins' own account hold (stored without a reference). */
export const ADMIN_ACCOUNT_HOLD = 'admin';

/** A system account hold's reference: `<kind>:<id>`, e.g. `dispute:dp_123` (account_holds checks the same pattern). */
export const SYSTEM_ACCOUNT_HOLD_REFERENCE = /^[a-z][a-z_]*:[!-~]{1,255}$/;
