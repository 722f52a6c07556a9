import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CatalogErrors } from './catalog.errors';
import type { ListingStatus } from './listing-state';

/**
 * Which listings an item may derive from: a published one only, and the derivation chain (the
 * parent's ancestors and the parent) is at most MAX_DERIVATION_DEPTH listings long.
 */
@Injectable()
export class DerivationPolicy {
  constructor(private readonly config: AppConfig) {}

  /** `chain`: the new listing's ancestors, root first, the parent last. */
  assertMayDeriveFrom(parent: { status: ListingStatus }, chain: readonly string[]): void {
    if (parent.status !== 'published') throw CatalogErrors.parentNotPublished(parent.status);
    const maxDepth = this.config.economy.maxDerivationDepth;
    if (chain.length > maxDepth) throw CatalogErrors.chainTooLong(maxDepth);
  }
}
