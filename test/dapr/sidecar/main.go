// Command daprd is the test sidecar of kugel-comms: the Dapr runtime with
// only the components the test suites use (state.in-memory, state.redis,
// state.postgresql, pubsub.in-memory, pubsub.redis, pubsub.kafka,
// pubsub.rabbitmq).
//
// Upstream's cmd/daprd registers every component through build-tagged
// init() files; compiling them all takes a long time and brings in the mDNS
// name resolver, which multicasts on start-up. This main wires the same
// runtime from the exported packages and registers nothing else, so no
// name resolver exists and nothing leaves loopback.
package main

import (
	"context"
	"fmt"
	"os"

	"go.opencensus.io/stats/view"

	nrSqlite "github.com/dapr/components-contrib/nameresolution/sqlite"
	pubsubInMemory "github.com/dapr/components-contrib/pubsub/in-memory"
	pubsubKafka "github.com/dapr/components-contrib/pubsub/kafka"
	pubsubRabbitMQ "github.com/dapr/components-contrib/pubsub/rabbitmq"
	pubsubRedis "github.com/dapr/components-contrib/pubsub/redis"
	stateInMemory "github.com/dapr/components-contrib/state/in-memory"
	statePostgresV1 "github.com/dapr/components-contrib/state/postgresql/v1"
	statePostgresV2 "github.com/dapr/components-contrib/state/postgresql/v2"
	stateRedis "github.com/dapr/components-contrib/state/redis"

	"github.com/dapr/dapr/cmd/daprd/options"
	"github.com/dapr/dapr/pkg/buildinfo"
	"github.com/dapr/dapr/pkg/components"
	bindingsLoader "github.com/dapr/dapr/pkg/components/bindings"
	configurationLoader "github.com/dapr/dapr/pkg/components/configuration"
	conversationLoader "github.com/dapr/dapr/pkg/components/conversation"
	cryptoLoader "github.com/dapr/dapr/pkg/components/crypto"
	lockLoader "github.com/dapr/dapr/pkg/components/lock"
	httpMiddlewareLoader "github.com/dapr/dapr/pkg/components/middleware/http"
	nrLoader "github.com/dapr/dapr/pkg/components/nameresolution"
	pubsubLoader "github.com/dapr/dapr/pkg/components/pubsub"
	secretstoresLoader "github.com/dapr/dapr/pkg/components/secretstores"
	stateLoader "github.com/dapr/dapr/pkg/components/state"
	"github.com/dapr/dapr/pkg/healthz"
	"github.com/dapr/dapr/pkg/metrics"
	"github.com/dapr/dapr/pkg/modes"
	"github.com/dapr/dapr/pkg/runtime"
	"github.com/dapr/dapr/pkg/runtime/registry"
	"github.com/dapr/dapr/pkg/security"
	"github.com/dapr/kit/concurrency"
	"github.com/dapr/kit/logger"
	"github.com/dapr/kit/signals"
)

var log = logger.NewLogger("kugel.testsidecar")

// registerComponents is the whole component set of the test sidecar.
func registerComponents() {
	contrib := logger.NewLogger("dapr.contrib")
	stateLoader.DefaultRegistry.Logger = contrib
	pubsubLoader.DefaultRegistry.Logger = contrib
	stateLoader.DefaultRegistry.RegisterComponent(stateInMemory.NewInMemoryStateStore, "in-memory")
	stateLoader.DefaultRegistry.RegisterComponent(stateRedis.NewRedisStateStore, "redis")
	pubsubLoader.DefaultRegistry.RegisterComponent(pubsubInMemory.New, "in-memory")
	pubsubLoader.DefaultRegistry.RegisterComponent(pubsubRedis.NewRedisStreams, "redis")
	// PostgreSQL as daprd's own cmd/daprd/components/state_postgres.go registers it: v2 preferred,
	// v1 the default, so a component file saying either version (or none) starts.
	stateLoader.DefaultRegistry.RegisterComponentWithVersions("postgresql", components.Versioning{
		Preferred: components.VersionConstructor{
			Version: "v2", Constructor: statePostgresV2.NewPostgreSQLStateStore,
		},
		Others: []components.VersionConstructor{
			{Version: "v1", Constructor: statePostgresV1.NewPostgreSQLStateStore},
		},
		Default: "v1",
	})
	pubsubLoader.DefaultRegistry.RegisterComponent(pubsubKafka.NewKafka, "kafka")
	pubsubLoader.DefaultRegistry.RegisterComponent(pubsubRabbitMQ.NewRabbitMQ, "rabbitmq")
	// The one name resolver: SQLite, a file on this machine that every sidecar of a test writes
	// its app id, address and internal gRPC port to (service invocation between two test
	// sidecars). Never mDNS, which multicasts beyond loopback. The registry's logger is nil by
	// default and the resolver logs.
	nrLoader.DefaultRegistry.Logger = contrib
	nrLoader.DefaultRegistry.RegisterComponent(nrSqlite.NewResolver, "sqlite")
}

func main() {
	opts, err := options.New(os.Args[1:])
	if err != nil {
		log.Fatalf("flags: %v", err)
	}
	if opts.RuntimeVersion {
		fmt.Println(buildinfo.Version()) //nolint:forbidigo
		return
	}
	opts.Logger.SetAppID(opts.AppID)
	if err := logger.ApplyOptionsToLoggers(&opts.Logger); err != nil {
		log.Fatal(err)
	}

	registerComponents()

	ctx := signals.Context()
	if err := run(ctx, opts); err != nil {
		log.Fatalf("runtime: %v", err)
	}
	log.Info("test sidecar stopped")
}

func run(ctx context.Context, opts *options.Options) error {
	reg := registry.NewOptions().
		WithSecretStores(secretstoresLoader.DefaultRegistry).
		WithStateStores(stateLoader.DefaultRegistry).
		WithConfigurations(configurationLoader.DefaultRegistry).
		WithLocks(lockLoader.DefaultRegistry).
		WithPubSubs(pubsubLoader.DefaultRegistry).
		WithNameResolutions(nrLoader.DefaultRegistry).
		WithBindings(bindingsLoader.DefaultRegistry).
		WithCryptoProviders(cryptoLoader.DefaultRegistry).
		WithHTTPMiddlewares(httpMiddlewareLoader.DefaultRegistry).
		WithConversations(conversationLoader.DefaultRegistry)

	health := healthz.New()
	provider, err := security.New(ctx, security.Options{
		SentryAddress:           opts.SentryAddress,
		ControlPlaneTrustDomain: opts.ControlPlaneTrustDomain,
		ControlPlaneNamespace:   opts.ControlPlaneNamespace,
		TrustAnchors:            opts.TrustAnchors,
		AppID:                   opts.AppID,
		MTLSEnabled:             opts.EnableMTLS,
		Mode:                    modes.DaprMode(opts.Mode),
		Healthz:                 health,
		JwtAudiences:            opts.SentryRequestJwtAudiences,
	})
	if err != nil {
		return err
	}

	startRuntime := func(ctx context.Context) error {
		sec, err := provider.Handler(ctx)
		if err != nil {
			return err
		}
		rt, err := runtime.FromConfig(ctx, &runtime.Config{
			AppID:                         opts.AppID,
			ResourcesPath:                 opts.ResourcesPath,
			ComponentsPath:                opts.ComponentsPath,
			Config:                        opts.Config,
			Mode:                          opts.Mode,
			AppProtocol:                   opts.AppProtocol,
			ApplicationPort:               opts.AppPort,
			AppChannelAddress:             opts.AppChannelAddress,
			AppMaxConcurrency:             opts.AppMaxConcurrency,
			AppSSL:                        opts.AppSSL,
			EnableAppHealthCheck:          opts.EnableAppHealthCheck,
			AppHealthCheckPath:            opts.AppHealthCheckPath,
			AppHealthProbeInterval:        opts.AppHealthProbeInterval,
			AppHealthProbeTimeout:         opts.AppHealthProbeTimeout,
			AppHealthThreshold:            opts.AppHealthThreshold,
			DaprHTTPPort:                  opts.DaprHTTPPort,
			DaprAPIGRPCPort:               opts.DaprAPIGRPCPort,
			DaprAPIListenAddresses:        opts.DaprAPIListenAddresses,
			DaprInternalGRPCPort:          opts.DaprInternalGRPCPort,
			DaprInternalGRPCListenAddress: opts.DaprInternalGRPCListenAddress,
			DaprPublicPort:                opts.DaprPublicPort,
			DaprPublicListenAddress:       opts.DaprPublicListenAddress,
			DaprGracefulShutdownSeconds:   opts.DaprGracefulShutdownSeconds,
			DaprBlockShutdownDuration:     opts.DaprBlockShutdownDuration,
			ActorsService:                 opts.ActorsService,
			ActorsDisseminationTimeout:    opts.ActorsDisseminationTimeout,
			RemindersService:              opts.RemindersService,
			SchedulerAddress:              opts.SchedulerAddress,
			SchedulerStreams:              opts.SchedulerJobStreams,
			ControlPlaneAddress:           opts.ControlPlaneAddress,
			SentryAddress:                 opts.SentryAddress,
			EnableMTLS:                    opts.EnableMTLS,
			AllowedOrigins:                opts.AllowedOrigins,
			ProfilePort:                   opts.ProfilePort,
			EnableProfiling:               opts.EnableProfiling,
			MaxRequestSize:                opts.MaxRequestSize,
			ReadBufferSize:                opts.ReadBufferSize,
			UnixDomainSocket:              opts.UnixDomainSocket,
			DisableBuiltinK8sSecretStore:  opts.DisableBuiltinK8sSecretStore,
			EnableAPILogging:              opts.EnableAPILogging,
			DisableInitEndpoints:          opts.DisableInitEndpoints,
			Metrics: metrics.Options{
				Enabled:       opts.Metrics.Enabled(),
				Log:           log,
				Port:          opts.Metrics.Port(),
				Namespace:     metrics.DefaultMetricNamespace,
				Healthz:       health,
				ListenAddress: opts.Metrics.ListenAddress(),
				Meter:         view.NewMeter(),
			},
			Registry: reg,
			Security: sec,
			Healthz:  health,
		})
		if err != nil {
			return err
		}
		return rt.Run(ctx)
	}

	return concurrency.NewRunnerManager(provider.Run, startRuntime).Run(ctx)
}
