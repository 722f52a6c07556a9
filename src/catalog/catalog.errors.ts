import { AppError, notFound } from '../common/errors';

/** The catalog's errors. Codes are the application's stable codes (common/errors.ts). */
export const CatalogErrors = {
  listingNotFound(): AppError {
    return notFound('Listing');
  },
  notTheCreator(): AppError {
    return new AppError('FORBIDDEN', 'Only the listing creator can do this');
  },

  // Deriving a listing from another.
  parentNotFound(): AppError {
    return notFound('Parent listing');
  },
  parentNotPublished(status: string): AppError {
    return new AppError('INVALID_STATE', 'Items can only be derived from a published listing', { status });
  },
  chainTooLong(maxDepth: number): AppError {
    const message = `derivation chains are at most ${maxDepth} ancestors long`;
    return new AppError('VALIDATION_FAILED', message, {}, [{ field: 'parentListingId', message }]);
  },
};
