import { Module } from '@nestjs/common';
import { ReportConsumer } from './report.consumer';
import { ReportController } from './report.controller';

/**
 * The consumer side of the sample, self-contained: import it next to `KugelCommsModule` and daprd
 * (started with `--app-port`) delivers the cart's transactions to `ReportConsumer`.
 */
@Module({
  providers: [ReportConsumer],
  controllers: [ReportController],
  exports: [ReportConsumer],
})
export class ReportModule {}
