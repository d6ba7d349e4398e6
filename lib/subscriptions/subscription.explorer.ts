import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { InvalidSubscriptionError } from '../errors/invalid-subscription.error';
import { DAPR_SUBSCRIBE_METADATA, DaprSubscribeDeclaration } from './dapr-subscribe.decorator';
import { defineSubscription, SubscriptionHandler } from './subscription-definition';
import { ResolvedSubscriptionOptions } from '../options/resolved-options.interface';

/**
 * Every `@DaprSubscribe` method of the app's providers and controllers, validated, in discovery
 * order. A decorated method on a request-scoped (or transient-dependent) class fails the boot:
 * there is no instance to deliver to outside a request.
 */
export function exploreSubscriptions(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  options: ResolvedSubscriptionOptions,
): SubscriptionHandler[] {
  const handlers: SubscriptionHandler[] = [];
  const seen = new Map<object, Set<string>>();
  for (const wrapper of [...discovery.getProviders(), ...discovery.getControllers()]) {
    if (wrapper.isAlias) continue;
    const metatype = wrapper.metatype as (new (...args: never[]) => unknown) | null | undefined;
    const isStatic = wrapper.isDependencyTreeStatic();
    const instance: unknown = isStatic ? wrapper.instance : undefined;
    const prototype =
      instance && typeof instance === 'object'
        ? (Object.getPrototypeOf(instance) as object)
        : typeof metatype === 'function'
          ? (metatype.prototype as object | undefined)
          : undefined;
    if (!prototype) continue;
    for (const methodName of scanner.getAllMethodNames(prototype)) {
      const method = (prototype as Record<string, unknown>)[methodName];
      const declarations: DaprSubscribeDeclaration[] | undefined =
        typeof method === 'function' ? Reflect.getMetadata(DAPR_SUBSCRIBE_METADATA, method) : undefined;
      if (!declarations?.length) continue;
      const className = (instance as object | undefined)?.constructor?.name ?? metatype?.name ?? 'anonymous';
      const name = `${className}.${methodName}`;
      if (!isStatic || !instance) {
        throw new InvalidSubscriptionError(
          [name],
          `@DaprSubscribe on ${name}: the class is request-scoped (or depends on a request-scoped provider); ` +
            'event handlers must live on singleton providers or controllers',
        );
      }
      // One instance found twice (a provider exported and re-provided) subscribes once.
      const done = seen.get(instance as object) ?? new Set<string>();
      if (done.has(methodName)) continue;
      done.add(methodName);
      seen.set(instance as object, done);
      const target = instance as Record<string, (arg: unknown) => unknown>;
      const invoke = (arg: unknown) => target[methodName](arg);
      for (const declaration of declarations) {
        handlers.push(defineSubscription(name, declaration, invoke, options, handlers.length));
      }
    }
  }
  return handlers;
}
