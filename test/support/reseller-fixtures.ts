import { IdentityService } from '../../src/identity/identity.service';
import type { TestApp } from './test-app';

/**
 * Makes the user a reseller the way the vetting flow will once an application is approved:
 * IdentityService.addRole in a transaction of its own (the admin roles route refuses the role). Roles
 * are read per request, so the user's live tokens carry it at once. Stands in for the vetting flow
 * until it exists; a suite about vetting approves applications instead.
 */
export async function grantResellerRole(t: TestApp, userId: string): Promise<void> {
  await t.dataSource.transaction((em) => t.app.get(IdentityService).addRole(em, userId, 'reseller'));
}
