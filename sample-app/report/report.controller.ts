import { Controller, Get, Param } from '@nestjs/common';
import { ReportConsumer, StoreSales } from './report.consumer';

/** Reads what the consumer received: `GET /api/v1/tenants/:tenantId/stores/:storeCode/reports/sales`. */
@Controller('api/v1/tenants/:tenantId/stores/:storeCode/reports')
export class ReportController {
  constructor(private readonly report: ReportConsumer) {}

  @Get('sales')
  sales(@Param('tenantId') tenantId: string, @Param('storeCode') storeCode: string): StoreSales {
    return this.report.salesOf(tenantId, storeCode);
  }
}
