/** Module options of the receiving half (`KugelCommsModuleOptions.subscriptions`). */
export interface SubscriptionOptions {
  /**
   * Path prefix of the event routes: `/<routePrefix>/<pubsub>/<topic>` (segments percent-encoded).
   * Segments of letters, digits, `.`, `_`, `~` and `-`.
   * @default 'dapr/events'
   */
  routePrefix?: string;
  /**
   * The token daprd sends as `dapr-api-token` on every call to the app (daprd reads it from its own
   * `APP_API_TOKEN`). When set, `GET /dapr/subscribe` and every event route answer 401 without it.
   * @default process.env.APP_API_TOKEN
   */
  appApiToken?: string;
  /**
   * A handler still running after this many milliseconds is answered `RETRY` (daprd itself puts no
   * timeout on a delivery). Below Redis Streams' default `processingTimeout` (60 s), so that a stuck
   * handler is answered before the broker hands a copy to another replica. 0 turns it off.
   * @default 30000
   */
  handlerTimeoutMs?: number;
  /**
   * Largest delivery body read by the event routes, in bytes, bulk batches included. daprd's own
   * default request limit (`--max-body-size`) is 4 MiB, so every event it accepted from a publisher
   * fits. Beyond it a single event is read to its end, thrown away and answered `DROP` (it can never
   * fit: the dead-letter topic keeps it), a bulk batch is answered 413 (daprd retries its entries,
   * then dead-letters them); both with an ERROR log. On Express the app's JSON parser limit does not
   * apply to deliveries, except in a testing module (there the parsers come first, and a body
   * they refuse is answered `RETRY`).
   * @default 4194304 (4 MiB)
   */
  maxBodyBytes?: number;
  /**
   * On shutdown, how long deliveries in flight may still take (Nest closes the HTTP server only
   * once they are answered). A handler still running then is answered `RETRY` (daprd delivers the
   * event again) and its `signal` is aborted; a delivery arriving after it is answered `RETRY`
   * without running. Unlike `handlerTimeoutMs` it cannot be turned off: 0 cuts at once.
   * @default 5000
   */
  shutdownTimeoutMs?: number;
  /**
   * From the start of the app's shutdown, close the HTTP server's idle keep-alive connections every
   * 50 ms until it has closed. Node's `server.close()` closes only the connections idle at that
   * moment: one that was answering a delivery (or a probe) stays open after its answer until the
   * keep-alive timeout (5 s), daprd goes on sending deliveries over it, and `app.close()` waits.
   * A request in flight is still answered in full (unlike Nest's `forceCloseConnections`, which
   * destroys sockets with requests in flight). Applies to the app's whole HTTP server.
   * @default true
   */
  closeIdleConnections?: boolean;
}
