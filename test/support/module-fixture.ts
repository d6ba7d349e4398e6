import { Test, TestingModule } from '@nestjs/testing';
import { KugelCommsModule, KugelCommsModuleOptions } from '../../lib';

/** Compiles a testing module with `KugelCommsModule.forRoot(options)` and initialises it. */
export async function bootKugelComms(options: KugelCommsModuleOptions): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({ imports: [KugelCommsModule.forRoot(options)] }).compile();
  moduleRef.enableShutdownHooks();
  await moduleRef.init();
  return moduleRef;
}
