/* eslint-disable @typescript-eslint/no-unused-vars -- the documentation blocks checked after it use these */
// Shared context of the documentation's statement blocks (```ts blocks without an import), for
// scripts/check-doc-blocks.mjs: each such block is checked as a module that starts with this
// prelude. It holds only what the snippets name without declaring: the module and the two
// injected clients they call.
import { DaprClientHelper, KugelCommsModule, ServiceClient } from 'kugel-comms';

/** The injected sidecar client (`constructor(private readonly dapr: DaprClientHelper)`). */
declare const dapr: DaprClientHelper;
/** A peer's pooled client (`httpClientHelper.getServiceClient('payments')`). */
declare const client: ServiceClient;
