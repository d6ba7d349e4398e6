import { Module } from '@nestjs/common';
import { TranlogOutbox } from './tranlog.outbox';

/** The cart's own records (its "database"): imported by the cart and by its republisher. */
@Module({ providers: [TranlogOutbox], exports: [TranlogOutbox] })
export class CartDataModule {}
