import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';

export type SubmissionAsset = 'CREDIT' | 'DEV_TOKEN';

export interface SubmissionFee {
  asset: SubmissionAsset;
  amount: bigint;
  /** The creator's accounts it is taken from, in order. */
  from: ('wallet' | 'earnings')[];
}

/**
 * What sending a listing to review costs: SUBMISSION_FEE_CREDITS or SUBMISSION_FEE_DEV_TOKENS, burned.
 * A CREDIT fee is paid from the wallet, then from earnings; a DEV_TOKEN fee from the wallet only.
 */
@Injectable()
export class SubmissionFeePolicy {
  constructor(private readonly config: AppConfig) {}

  feeFor(asset: SubmissionAsset): SubmissionFee {
    const { submissionFeeCredits, submissionFeeDevTokens } = this.config.economy;
    return asset === 'CREDIT'
      ? { asset, amount: BigInt(submissionFeeCredits), from: ['wallet', 'earnings'] }
      : { asset, amount: BigInt(submissionFeeDevTokens), from: ['wallet'] };
  }
}
