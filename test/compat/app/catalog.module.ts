import { HttpService } from '@nestjs/axios';
import { Controller, Get, HttpException, Module, Param } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import {
  InjectHttpService,
  InjectServiceClient,
  KugelCommsModule,
  ServiceClient,
  isHttpClientError,
  pathOf,
} from 'kugel-comms';

/** A feature module: the pooled clients (and an HttpService) are injected by service name. */
@Controller()
class CatalogController {
  constructor(
    @InjectServiceClient('master-data') private readonly masterData: ServiceClient,
    @InjectServiceClient('pricing') private readonly pricing: ServiceClient,
    @InjectServiceClient('stock') private readonly stock: ServiceClient,
    @InjectHttpService('master-data') private readonly masterDataRx: HttpService,
  ) {}

  @Get('items/:code')
  item(@Param('code') code: string) {
    return this.masterData.get(pathOf`/items/${code}`);
  }

  /** The same peer through its HttpService (@nestjs/axios, Observables) over the same pooled client. */
  @Get('items-rx/:code')
  async itemRx(@Param('code') code: string) {
    const res = await firstValueFrom(this.masterDataRx.get(pathOf`/items/${code}`));
    return res.data;
  }

  @Get('prices/:code')
  price(@Param('code') code: string) {
    return relay(this.pricing.get(pathOf`/prices/${code}`));
  }

  @Get('stock/:code')
  stockLevel(@Param('code') code: string) {
    return relay(this.stock.get(pathOf`/stock/${code}`));
  }
}

/** A failed call answers 502 with the error's code (`ERR_CIRCUIT_OPEN` once the breaker is open). */
async function relay(call: Promise<unknown>) {
  try {
    return await call;
  } catch (error) {
    if (!isHttpClientError(error)) throw error;
    throw new HttpException({ code: error.code, statusCode: error.statusCode }, 502);
  }
}

@Module({
  imports: [KugelCommsModule.forFeature(['master-data', 'pricing', 'stock'])],
  controllers: [CatalogController],
})
export class CatalogModule {}
