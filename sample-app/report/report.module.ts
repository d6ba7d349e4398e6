import { Module } from '@nestjs/common';
import { ReportConsumer } from './report.consumer';
import { ReportController } from './report.controller';
import { ReportStore } from './report.store';

/**
 * The consumer side of the sample, self-contained: import it next to `KugelCommsModule` (with the
 * `deliveryStatus` and `tranlog` repositories) and daprd, started with `--app-port`, delivers the
 * cart's transaction logs to `ReportConsumer`.
 */
@Module({
  providers: [ReportConsumer, ReportStore],
  controllers: [ReportController],
  exports: [ReportConsumer, ReportStore],
})
export class ReportModule {}
