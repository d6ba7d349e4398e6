import { ConfigurableModuleBuilder } from '@nestjs/common';
import { KugelCommsModuleOptions } from './interfaces/kugel-comms-options.interface';

/** Extras accepted by `forRoot` / `forRootAsync` besides the options. */
export interface KugelCommsModuleExtras {
  /** Register the module globally (no need to import it in feature modules). @default false */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass: KugelCommsConfigurableModule,
  /**
   * Injection token of the options exactly as the app gave them (before defaults and
   * validation); the module resolves them into `KUGEL_COMMS_RESOLVED_OPTIONS`.
   */
  MODULE_OPTIONS_TOKEN: KUGEL_COMMS_USER_OPTIONS,
  OPTIONS_TYPE: KUGEL_COMMS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: KUGEL_COMMS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<KugelCommsModuleOptions>({ moduleName: 'KugelComms' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createKugelCommsOptions')
  .setExtras<KugelCommsModuleExtras>({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
