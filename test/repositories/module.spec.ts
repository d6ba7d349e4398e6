import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  isInvalidOptionsError,
  ItemMasterWebRepository,
  KugelCommsModule,
  PaymentMasterWebRepository,
  PubsubManager,
  SettingsMasterWebRepository,
  StaffMasterWebRepository,
  StateStoreManager,
  StoreInfoWebRepository,
  TerminalInfoWebRepository,
  TranlogWebRepository,
} from '../../lib';
import { bootKugelComms } from '../support/module-fixture';

const ALL = [
  ItemMasterWebRepository,
  PaymentMasterWebRepository,
  SettingsMasterWebRepository,
  TranlogWebRepository,
  TerminalInfoWebRepository,
  StoreInfoWebRepository,
  StaffMasterWebRepository,
  PubsubManager,
  StateStoreManager,
];

const base = { dapr: { waitForSidecarMs: 0 } };

describe('repository registration', () => {
  it('forRoot registers every repository by default, each a singleton', async () => {
    const app = await bootKugelComms(base);
    try {
      for (const cls of ALL) {
        const instance = app.get<unknown>(cls);
        expect(instance).toBeInstanceOf(cls);
        expect(app.get<unknown>(cls)).toBe(instance);
      }
    } finally {
      await app.close();
    }
  });

  it('forRoot registers only the repositories named in repositories.enabled', async () => {
    const app = await bootKugelComms({
      ...base,
      repositories: { enabled: ['itemMaster', 'stateStore'] },
    });
    try {
      expect(app.get(ItemMasterWebRepository)).toBeInstanceOf(ItemMasterWebRepository);
      expect(app.get(StateStoreManager)).toBeInstanceOf(StateStoreManager);
      for (const cls of ALL.filter((c) => c !== ItemMasterWebRepository && c !== StateStoreManager)) {
        expect(() => app.get<unknown>(cls)).toThrow();
      }
    } finally {
      await app.close();
    }
  });

  it('exports the repositories to the importing module (constructor injection)', async () => {
    @Injectable()
    class CartService {
      constructor(
        readonly items: ItemMasterWebRepository,
        readonly state: StateStoreManager,
      ) {}
    }
    @Module({ imports: [KugelCommsModule.forRoot(base)], providers: [CartService] })
    class CartModule {}
    const app = await Test.createTestingModule({ imports: [CartModule] }).compile();
    try {
      const service = app.get(CartService);
      expect(service.items).toBeInstanceOf(ItemMasterWebRepository);
      expect(service.state.storeName).toBe('statestore');
    } finally {
      await app.close();
    }
  });

  it('forRootAsync registers every repository and takes the state store name from the factory', async () => {
    const app = await Test.createTestingModule({
      imports: [
        KugelCommsModule.forRootAsync({
          useFactory: async () => ({ ...base, repositories: { stateStore: 'dedup-store' } }),
        }),
      ],
    }).compile();
    try {
      for (const cls of ALL) expect(app.get<unknown>(cls)).toBeInstanceOf(cls);
      expect(app.get(StateStoreManager).storeName).toBe('dedup-store');
    } finally {
      await app.close();
    }
  });

  it.each([
    [{ enabled: ['itemMaster', 'nope'] }, /"repositories.enabled" is not a repository name.*got "nope"/],
    [{ enabled: 'some' }, /repositories.enabled/],
    [{ cacheTtlMs: -1 }, /repositories.cacheTtlMs/],
    [{ cacheMaxEntries: 0 }, /repositories.cacheMaxEntries/],
    [{ stateStore: '' }, /repositories.stateStore/],
    [{ services: { cart: 'a b' } }, /repositories.services.cart/],
  ])('refuses bad repository options at boot: %j', async (repositories, message) => {
    const error = await bootKugelComms({ ...base, repositories: repositories as never }).then(
      async (app) => {
        await app.close();
        throw new Error('booted');
      },
      (e: Error) => e,
    );
    expect(isInvalidOptionsError(error)).toBe(true);
    expect(error.message).toMatch(message);
  });
});
