// Shared context of the documentation's statement blocks (```ts blocks without an import): the Nest
// decorators, the package's names they use, and the injected values they call. Each such block is
// checked as a module that starts with this prelude.
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import {
  DaprClientHelper,
  DaprEvent,
  DaprSubscribe,
  HttpClientHelper,
  KugelCommsModule,
  pathOf,
  ServiceClient,
} from 'kugel-comms';

/** The injected sidecar client (`constructor(private readonly dapr: DaprClientHelper)`). */
declare const dapr: DaprClientHelper;
/** A peer's pooled client (`httpClientHelper.getServiceClient('payments')`). */
declare const client: ServiceClient;
declare const http: HttpClientHelper;
