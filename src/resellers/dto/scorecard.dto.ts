import { EXAMPLE_ID, PageOf } from '../../common/api-docs';
import { ApiProperty } from '@nestjs/swagger';

export class CancellationsView {
  @ApiProperty({ type: 'integer' }) byReseller: number;
  @ApiProperty({ type: 'integer' }) byBuyer: number;
}

export class ScorecardView {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) resellerId: string;
  @ApiProperty({ type: 'integer', description: 'RESELLER_SCORECARD_DAYS' }) windowDays: number;
  @ApiProperty({ description: 'orders opened from here (inclusive) …' }) from: string;
  @ApiProperty({ description: '… to here (exclusive)' }) to: string;
  @ApiProperty({ type: 'integer' }) orders: number;
  @ApiProperty({ type: 'integer', description: 'orders the buyer marked paid or the reseller confirmed' }) paid: number;
  @ApiProperty({ type: 'integer' }) confirmed: number;
  @ApiProperty({ type: 'number', nullable: true, description: 'confirmed / paid (0-1); null when none was paid' }) completionRate:
    number | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'median seconds from marked paid (or opened) to confirmation' })
  medianConfirmSeconds: number | null;
  @ApiProperty({ type: 'integer' }) disputes: number;
  @ApiProperty({ type: 'number', nullable: true, description: 'disputes / orders (0-1)' }) disputeRate: number | null;
  @ApiProperty({ type: 'integer', description: 'disputes resolved to the buyer' }) disputesLost: number;
  @ApiProperty({ type: 'integer', description: 'disputes resolved to the reseller' }) disputesWon: number;
  @ApiProperty({ type: 'number', nullable: true, description: 'disputes lost / orders (0-1)' }) lossRate: number | null;
  @ApiProperty({ type: CancellationsView }) cancellations: CancellationsView;
  @ApiProperty({ type: 'integer', description: 'orders that expired unpaid' }) expiries: number;
  @ApiProperty({ type: 'integer', description: '0-100, docs/resellers.md "Trust score"' }) trustScore: number;
}

export class DirectoryEntryView {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ type: [String] }) regions: string[];
  @ApiProperty({ type: [String] }) paymentMethods: string[];
  @ApiProperty({ type: 'integer' }) trustScore: number;
  @ApiProperty({ enum: ['active'] }) status: 'active';
  @ApiProperty({ description: 'whether it takes new orders now (re-vetting not overdue, bond locked)' }) takingOrders: boolean;
  @ApiProperty({ description: 'during probation (lower limits)' }) probation: boolean;
}

export const DirectoryPage = PageOf(DirectoryEntryView, 'DirectoryPage');
